import Testing
import Foundation

@Suite struct KeepAliveIntegrationTests {
    @Test func keepAliveReusesBothSides() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            var conns: [Int] = []
            for _ in 0..<5 {
                c.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
                let r = try c.readResponse()
                #expect(r.status == 200)
                conns.append(r.json["conn"] as! Int)
            }
            // One upstream connection served all five (pooled keep-alive).
            #expect(Set(conns).count == 1)
        }
    }

    @Test func pipelinedRequestsAnsweredInOrder() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send((1...5).map { "GET /u/echo/\($0) HTTP/1.1\r\nHost: h\r\n\r\n" }.joined() + "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n")
            for i in 1...5 {
                let r = try c.readResponse()
                #expect(r.json["path"] as? String == "/echo/\(i)")
            }
            #expect(try c.readResponse().status == 404)
        }
    }

    @Test func http10WithAndWithoutKeepAlive() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /u/echo HTTP/1.0\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.header("connection")?.lowercased() == "close")
            #expect(c.isClosedByPeer())

            let k = try RawClient(port: port)
            k.send("GET /u/echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let r1 = try k.readResponse()
            #expect(r1.header("connection")?.lowercased() == "keep-alive")
            k.send("GET /u/bytes?n=5000&mode=chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            // A chunked upstream body goes to an HTTP/1.0 client close-delimited.
            let r2 = try k.readResponse()
            #expect(r2.body.count == 5000)
            #expect(r2.header("transfer-encoding") == nil)
        }
    }

    @Test func headAndBodylessStatuses() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("HEAD /u/bytes?n=100 HTTP/1.1\r\nHost: h\r\n\r\n")
            let r = try c.readResponse(method: "HEAD")
            #expect(r.header("content-length") == "100")
            for code in [204, 304] {
                c.send("GET /u/status?code=\(code) HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(try c.readResponse().status == code)
            }
            // berth's own answers to HEAD carry no body either.
            c.send("HEAD /nowhere HTTP/1.1\r\nHost: h\r\n\r\n")
            let missing = try c.readResponse(method: "HEAD")
            #expect(missing.status == 404)
            #expect(missing.header("content-length") != nil)
            // If any body bytes had leaked, this response would be misparsed.
            c.send("GET /u/echo/after HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try c.readResponse().json["path"] as? String == "/echo/after")
        }
    }

    @Test func staleKeepAliveRetriedOnceForIdempotentOnly() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /u/stale HTTP/1.1\r\nHost: h\r\n\r\n")
            let first = try c.readResponse()
            // The pooled connection is now one the upstream will drop: GET is retried.
            c.send("GET /u/stale HTTP/1.1\r\nHost: h\r\n\r\n")
            let second = try c.readResponse()
            #expect(second.status == 200)
            #expect(second.json["conn"] as? Int != first.json["conn"] as? Int)
            // POST is not replayed: 502.
            c.send("POST /u/stale HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
            #expect(try c.readResponse().status == 502)
        }
    }

    @Test func idleKeepAliveClosedQuietly() throws {
        try withProxy(upstreamApp, extra: "timeouts {\n idle 500ms\n}\n") { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try c.readResponse().status == 200)
            let start = Date()
            #expect(c.readToEOF().isEmpty)  // closed with no 408
            #expect(Date().timeIntervalSince(start) < 3)
        }
    }
}

import Testing
import Foundation

@Suite struct ErrorStatusIntegrationTests {
    let timeouts = "timeouts {\n header 500ms\n upstream 700ms\n connect 1s\n}\nlimits {\n header-size 4K\n body-size 1K\n}\n"

    var apps: String {
        upstreamApp + "app dead {\n path /dead\n upstream 127.0.0.1:1\n}\n"
    }

    @Test func statusCodes() throws {
        try withProxy(apps, extra: timeouts) { (port: Int) throws in
            let base = "http://127.0.0.1:\(port)"
            #expect(try curlStatus("\(base)/nowhere") == 404)
            #expect(try curlStatus("\(base)/dead/x") == 502)
            #expect(try curlStatus("\(base)/u/garbage") == 502)
            #expect(try curlStatus("\(base)/u/close-now") == 502)
            #expect(try curlStatus("\(base)/u/slow?delay=2") == 504)
            #expect(try curlStatus("\(base)/u/echo", ["--data-binary", String(repeating: "x", count: 2000)]) == 413)
            #expect(try curlStatus("\(base)/u/" + String(repeating: "a", count: 5000)) == 414)
            #expect(try curlStatus("\(base)/u/echo", ["-H", "X-Big: " + String(repeating: "b", count: 5000)]) == 431)
        }
    }

    @Test func chunkedBodyOverLimitIs413() throws {
        try withProxy(apps, extra: timeouts) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + String(repeating: "x", count: 2048) + "\r\n0\r\n\r\n")
            #expect(try c.readResponse().status == 413)
        }
    }

    @Test func slowlorisGets408AndClose() throws {
        try withProxy(apps, extra: timeouts) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n")
            let start = Date()
            let r = try c.readResponse()
            #expect(r.status == 408)
            #expect(Date().timeIntervalSince(start) < 2.5)
            #expect(c.isClosedByPeer())
        }
    }

    @Test func silentNewConnectionClosedWithoutResponse() throws {
        try withProxy(apps, extra: timeouts) { (port: Int) throws in
            let c = try RawClient(port: port)
            #expect(c.readToEOF().isEmpty)
        }
    }

    @Test func truncatedAndBrokenResponsesCloseTheClient() throws {
        try withProxy(apps, extra: timeouts) { (port: Int) throws in
            for path in ["/u/close-mid", "/u/bad-chunked"] {
                let c = try RawClient(port: port)
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(throws: TestError.self, "\(path)") { _ = try c.readResponse() }
            }
            // The worker is fine afterwards.
            #expect(try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
        }
    }

    /// Smuggling attempts on the wire: refused with 400 (or 501), closed, and
    /// the smuggled second request never reaches the upstream.
    @Test func ambiguousRequestsNeverForwarded() throws {
        let attacks = [
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nContent-Length: 5\r\n\r\n",
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n",
            "GET /u/echo HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
            "GET /u/echo HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
            "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET admin HTTP/1.1\r\nHost: h\r\n\r\n",
            "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: h\r\n\r\n",
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
            "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
        ]
        try withProxy(apps, extra: timeouts) { (port: Int) throws in
            for attack in attacks {
                let c = try RawClient(port: port)
                c.send(attack + "GET /u/echo/smuggled HTTP/1.1\r\nHost: h\r\n\r\n")
                let r = try c.readResponse()
                #expect(r.status == 400, "\(attack.debugDescription)")
                #expect(r.header("connection") == "close")
                #expect(c.isClosedByPeer(), "\(attack.debugDescription)")
            }
            let gzip = try request(port, "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            #expect(gzip.status == 501)
        }
    }
}

import Testing
import Foundation

@Suite struct RoutingIntegrationTests {
    let up = UpstreamProcess.shared.port

    @Test func stripPrefixAndRouting() throws {
        let apps = """
        app u {
         path /u
         upstream 127.0.0.1:\(up)
        }
        app keep {
         path /echo/keep
         strip-prefix off
         upstream 127.0.0.1:\(up)
        }
        app hosted {
         host api.example.com
         path /u
         upstream 127.0.0.1:\(up)
        }
        app later {
         path /later
         build apps/later
        }
        """
        try withProxy(apps) { (port: Int) throws in
            let cases: [(String, String)] = [("/u/echo?a=1", "/echo?a=1"), ("/u", "/"), ("/u?q=1", "/?q=1"),
                                             ("/u/", "/"), ("/echo/keep/x", "/echo/keep/x")]
            for (target, upstreamPath) in cases {
                let r = try request(port, "GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(r.status == 200, "\(target)")
                #expect(r.json["path"] as? String == upstreamPath, "\(target)")
            }
            let prefixed = try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(prefixed.echoedHeaders["x-forwarded-prefix"] == ["/u"])
            let unprefixed = try request(port, "GET /echo/keep HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(unprefixed.echoedHeaders["x-forwarded-prefix"] == nil)
            #expect(try request(port, "GET /ux HTTP/1.1\r\nHost: h\r\n\r\n").status == 404)
            #expect(try request(port, "GET / HTTP/1.1\r\nHost: h\r\n\r\n").status == 404)
            // Host-specific route wins over the any-host one with the same path.
            let hosted = try request(port, "GET /u/echo HTTP/1.1\r\nHost: API.example.com:8080\r\n\r\n")
            #expect(hosted.echoedHeaders["x-forwarded-host"] == ["API.example.com:8080"])
            // An app without running servers answers 503 with Retry-After.
            let later = try request(port, "GET /later/x HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(later.status == 503)
            #expect(later.header("retry-after") != nil)
        }
    }

    @Test func absoluteFormTargetRoutesByItsAuthority() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let r = try request(port, "GET http://example.org/u/echo?z HTTP/1.1\r\nHost: ignored\r\n\r\n")
            #expect(r.status == 200)
            #expect(r.json["path"] as? String == "/echo?z")
            #expect(r.echoedHeaders["host"] == ["example.org"])
        }
    }

    @Test func roundRobinSpreadsAcrossServers() throws {
        let a = UpstreamProcess.shared.port, b = UpstreamProcess.second.port
        try withProxy("app u {\n path /u\n upstream 127.0.0.1:\(a) 127.0.0.1:\(b)\n}\n") { (port: Int) throws in
            var seen: [Int: Int] = [:]
            for _ in 0..<6 {
                let r = try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
                seen[r.json["server_port"] as! Int, default: 0] += 1
            }
            #expect(seen == [a: 3, b: 3])
        }
    }

    @Test func leastConnAvoidsTheBusyServer() throws {
        let a = UpstreamProcess.shared.port, b = UpstreamProcess.second.port
        try withProxy("app u {\n path /u\n upstream 127.0.0.1:\(a) 127.0.0.1:\(b)\n balance leastconn\n}\n") { (port: Int) throws in
            // While one server holds a slow request, every quick one goes to the
            // other (round-robin would alternate between them).
            let slow = try RawClient(port: port)
            slow.send("GET /u/slow?delay=3 HTTP/1.1\r\nHost: h\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.2)
            let c = try RawClient(port: port)
            var ports = Set<Int>()
            for _ in 0..<4 {
                c.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
                ports.insert(try c.readResponse().json["server_port"] as! Int)
            }
            #expect(ports.count == 1)
            #expect(try slow.readResponse().status == 200)
        }
    }
}

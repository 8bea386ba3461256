import Testing
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthRouting
@testable import BerthProxy

/// `skew-retry on`: while an old version drains, a GET or HEAD the new
/// version answers 404 is asked of the old one, once, and the access log
/// says so; anything else, or with no old version draining, the 404 stands.
@Suite struct SkewRetryTests {
    /// A server that answers 404 to everything (the new version, without the asset).
    final class NotFoundServer {
        let process = Process()
        let port: Int
        init() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-u", "-c", """
                import http.server, sys
                class H(http.server.SimpleHTTPRequestHandler):
                    protocol_version = "HTTP/1.1"
                    def do_POST(self):
                        self.send_error(404)
                s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
                print(s.server_address[1], flush=True)
                s.serve_forever()
                """]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            port = Int(LineReader(out).next(timeout: 10) ?? "") ?? 0
        }
        deinit {
            kill(process.processIdentifier, SIGKILL)  // SIGTERM may be blocked in a child of a test thread
            process.waitUntilExit()
        }
    }

    @Test func a404OfTheNewVersionIsAskedOfTheOldOneOnce() throws {
        let new = try NotFoundServer()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("skew-\(UUID().uuidString).log").path
        let config = try Config.parse(proxyConfig("app c {\n path /c\n build apps/c\n skew-retry on\n}\napp d {\n path /d\n build apps/d\n}\n",
                                                  extra: "access-log \(log)"), file: "t")
        let newP = Placement(netns: nil, port: new.port), oldP = Placement(netns: nil, port: UpstreamProcess.shared.port)
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([newP]), "d": .ready([newP])],
                                                  previous: ["c": [oldP], "d": [oldP]]))
        try server.start()
        defer { server.stop() }
        let port = server.ports[0]
        // The old version has /echo, the new one nothing.
        #expect(try request(port, "GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
        #expect(try request(port, "HEAD /c/echo HTTP/1.1\r\nHost: h\r\n\r\n", method: "HEAD").status == 200)
        // Not idempotent-and-bodiless, or an app without skew-retry: the 404 stands.
        #expect(try request(port, "POST /c/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi").status == 404)
        #expect(try request(port, "GET /d/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 404)
        // Asked once: a page neither has is the old version's 404.
        #expect(try request(port, "GET /c/nowhere HTTP/1.1\r\nHost: h\r\n\r\n").status == 404)
        // Keep-alive goes on after a retried request.
        let c = try RawClient(port: port)
        for _ in 0..<3 {
            c.send("GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try c.readResponse().status == 200)
        }
        // The old version gone: the 404 stands.
        try server.route(["c": .ready([newP]), "d": .ready([newP])], previous: [:])
        #expect(try request(port, "GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 404)
        server.stop()
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let marked = lines.filter { $0.contains("\"skew_retry\":true") }
        #expect(marked.count == 6, "GET, HEAD, nowhere and 3 keep-alive ones: \(lines)")
        #expect(marked.allSatisfy { $0.contains("\"upstream\":\"127.0.0.1:\(UpstreamProcess.shared.port)\"") }, "\(marked)")
    }
}

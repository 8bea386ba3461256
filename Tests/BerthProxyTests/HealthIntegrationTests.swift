import Testing
import Foundation
import BerthConfig
@testable import BerthProxy

@Suite(.serialized) struct HealthIntegrationTests {
    let live = UpstreamProcess.shared.port

    @Test func refusedConnectRetriesAnotherServerThenSkipsIt() throws {
        try withServer(app("a", "/a", [1, live])) { (server: ProxyServer, port: Int) throws in
            for _ in 0..<10 {
                #expect(try request(port, "POST /a/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi").status == 200)
            }
            let dead = server.published.withLock { $0.table.servers.first { $0.name == "127.0.0.1:1" }! }
            #expect(!dead.health.isUp)  // three refusals in a row: skipped for a while
        }
    }

    @Test func noHealthyServerIs503WithRetryAfter() throws {
        try withServer(app("a", "/a", [1], "health GET / interval 100ms timeout 100ms fall 1 rise 1")) { (server: ProxyServer, port: Int) throws in
            let down = try eventually(3) {
                !server.published.withLock { $0.table.servers[0].health.isUp }
            }
            #expect(down)
            let r = try request(port, "GET /a/ HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(r.status == 503)
            #expect(r.header("retry-after") == "5")
        }
    }

    @Test func killedUpstreamMarkedDownThenUpWhenRestarted() throws {
        let spare = try RawListener()
        let port0 = spare.port
        spare.close()
        var flaky = UpstreamProcess(port: port0)
        let check = "health GET /echo interval 150ms timeout 300ms fall 2 rise 2"
        try withServer(app("a", "/a", [flaky.port, live], check)) { (server: ProxyServer, port: Int) throws in
            let health = server.published.withLock { $0.table.servers.first { $0.name == "127.0.0.1:\(port0)" }!.health }
            #expect(health.isUp)
            flaky.stop()
            #expect(try eventually(3) { !health.isUp })
            // Meanwhile every request lands on the live server.
            for _ in 0..<6 {
                let r = try request(port, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(r.status == 200)
                #expect(r.json["server_port"] as? Int == live)
            }
            flaky = UpstreamProcess(port: port0)
            #expect(try eventually(3) { health.isUp })
            var seen = Set<Int>()
            for _ in 0..<6 {
                seen.insert(try request(port, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n").json["server_port"] as? Int ?? 0)
            }
            #expect(seen == [port0, live])
        }
        flaky.stop()
    }
}

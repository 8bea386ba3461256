import Testing
import Foundation
import BerthConfig
import BerthRouting
@testable import BerthProxy

/// A container app the control plane is still starting: requests wait for
/// its first replica (up to `timeouts { start }`) instead of failing.
@Suite struct StartingAppIntegrationTests {
    let containerApp = "app c {\n path /c\n build apps/c\n}\n"

    @Test func heldRequestIsServedWhenTheFirstReplicaArrives() throws {
        let config = try Config.parse(proxyConfig(containerApp, workers: 2, extra: "timeouts {\n start 20s\n}"), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .starting]))  // listed: starting
        try server.start()
        defer { server.stop() }
        let clients = try (0..<4).map { _ in try RawClient(port: server.ports[0]) }
        for c in clients { c.send("GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n") }
        usleep(600_000)  // they are held, not answered
        let started = Date()
        try server.route(["c": .ready([Placement(netns: nil, port: UpstreamProcess.shared.port)])])
        for c in clients {
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.json["server_port"] as? Int == UpstreamProcess.shared.port)
        }
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func holdEndsIn503AfterTheStartTimeout() throws {
        let config = try Config.parse(proxyConfig(containerApp, extra: "timeouts {\n start 1s\n}"), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .starting]))
        try server.start()
        defer { server.stop() }
        let start = Date()
        let r = try request(server.ports[0], "GET /c/ HTTP/1.1\r\nHost: h\r\n\r\n")
        let took = Date().timeIntervalSince(start)
        #expect(r.status == 503 && r.header("Retry-After") == "5")
        #expect(took >= 0.9 && took < 3)
    }

    @Test func appNotBeingStartedAnswers503AtOnce() throws {
        // Failed (and, the same, a container app not listed at all): nothing is coming.
        let config = try Config.parse(proxyConfig(containerApp, extra: "timeouts {\n start 20s\n}"), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .failed(reason: "build failed")]))
        try server.start()
        defer { server.stop() }
        let start = Date()
        #expect(try request(server.ports[0], "GET /c/ HTTP/1.1\r\nHost: h\r\n\r\n").status == 503)
        #expect(Date().timeIntervalSince(start) < 1)
    }

    @Test func placementsFollowAReplicaWithoutAReload() throws {
        let config = try Config.parse(proxyConfig(containerApp), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([Placement(netns: nil, port: UpstreamProcess.shared.port)])]))
        try server.start()
        defer { server.stop() }
        #expect(try request(server.ports[0], "GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n").json["server_port"] as? Int == UpstreamProcess.shared.port)
        try server.route(["c": .ready([Placement(netns: nil, port: UpstreamProcess.second.port)])])
        #expect(try request(server.ports[0], "GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n").json["server_port"] as? Int == UpstreamProcess.second.port)
        #expect(server.generation == 1)  // not a reload
    }

    /// The only replica takes the connection and resets it without a byte of
    /// answer (killed as the request reached it): a request that can be
    /// replayed waits for the successor instead of getting a 502 (and is not
    /// sent to the resetting one again while it waits); one that cannot be
    /// replayed (a POST) gets the 502.
    @Test func replicaResetBeforeAnsweringHoldsAReplayableRequest() throws {
        let resetting = try ResettingServer()
        defer { resetting.stop() }
        let config = try Config.parse(proxyConfig(containerApp, extra: "timeouts {\n start 20s\n}"), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([Placement(netns: nil, port: resetting.port)])]))
        try server.start()
        defer { server.stop() }
        #expect(try request(server.ports[0], "POST /c/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello").status == 502)
        #expect(resetting.waitForResets(1))
        let client = try RawClient(port: server.ports[0], timeout: 10)
        client.send("GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(resetting.waitForResets(1))
        // Held, and not sent back to the resetting replica by the worker's sweeps.
        #expect(!resetting.waitForResets(1, timeout: 1.5))
        try server.route(["c": .ready([Placement(netns: nil, port: UpstreamProcess.shared.port)])])
        let r = try client.readResponse()
        #expect(r.status == 200)
        #expect(r.json["server_port"] as? Int == UpstreamProcess.shared.port)
    }

    /// The only replica refuses (it is restarting): the request waits for the
    /// control plane to route its successor instead of getting a 502.
    @Test func refusedReplicaHoldsUntilItsSuccessorIsRouted() throws {
        let config = try Config.parse(proxyConfig(containerApp, extra: "timeouts {\n start 20s\n}"), file: "t")
        let dead = Placement(netns: nil, port: 1)  // nothing listens on port 1
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([dead])]))
        try server.start()
        defer { server.stop() }
        let client = try RawClient(port: server.ports[0])
        client.send("POST /c/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        usleep(500_000)
        try server.route(["c": .ready([Placement(netns: nil, port: UpstreamProcess.shared.port)])])
        let r = try client.readResponse()
        #expect(r.status == 200)
        #expect(r.json["body_length"] as? Int == 5)
        // A plain upstream app with a dead server still answers 502 at once.
        try withServer(app("p", "/p", [1])) { (_: ProxyServer, port: Int) throws in
            #expect(try request(port, "GET /p/ HTTP/1.1\r\nHost: h\r\n\r\n").status == 502)
        }
    }
}

import Testing
import Foundation
import BerthConfig
import BerthRouting
import Synchronization
@testable import BerthProxy

/// ProxyServer as the control plane's DataPlane: switches every worker or
/// none, and says when replicas are idle without being polled.
@Suite struct DataPlaneIntegrationTests {
    let containerApp = "app c {\n path /c\n build apps/c\n}\n"

    /// A worker stalled past the deadline: the reload throws naming it, and
    /// once it runs again every worker is back on the old table.
    @Test func workerThatDoesNotAcknowledgeFailsTheSwitchAndEveryWorkerSwitchesBack() throws {
        let old = try Config.parse(proxyConfig(app("a", "/a", [UpstreamProcess.shared.port]), workers: 2), file: "t")
        let server = try ProxyServer(config: old)
        try server.start()
        defer { server.stop() }
        server.acknowledgeDeadline = 0.3
        let resumed = DispatchSemaphore(value: 0)
        server.workers[1].send(.run {
            usleep(1_000_000)
            resumed.signal()
        })
        let new = try Config.parse(proxyConfig(app("b", "/b", [UpstreamProcess.shared.port]), workers: 2), file: "t")
        #expect(throws: DataPlaneError.workerDidNotAcknowledge(worker: 1, seconds: 0.3)) { try server.apply(new) }
        #expect(server.generation == 1)
        #expect(resumed.wait(timeout: .now() + 5) == .success)
        // Both workers applied the new table and then the old one, in order.
        let generations = Mutex<[Int]>([])
        let asked = DispatchGroup()
        for w in server.workers {
            asked.enter()
            w.send(.run {
                generations.withLock { $0.append(w.table.generation) }
                asked.leave()
            })
        }
        #expect(asked.wait(timeout: .now() + 5) == .success)
        #expect(generations.withLock { $0 } == [1, 1])
        for _ in 0..<4 {  // whichever worker answers
            #expect(try request(server.ports[0], "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
            #expect(try request(server.ports[0], "GET /b/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 404)
        }
        // The next reload goes through.
        server.acknowledgeDeadline = 5
        #expect(try server.apply(new).generation == 2)
        #expect(try request(server.ports[0], "GET /b/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
    }

    /// A request in flight on a replica: `whenIdle` completes when it ends,
    /// not before; with a shorter deadline it says which replica was busy.
    @Test func whenIdleCompletesWhenTheLastExchangeEnds() throws {
        let config = try Config.parse(proxyConfig(containerApp, workers: 2), file: "t")
        let replica = Placement(netns: nil, port: UpstreamProcess.shared.port)
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([replica])]))
        try server.start()
        defer { server.stop() }
        let client = try RawClient(port: server.ports[0])
        let sent = Date()
        client.send("GET /c/slow?delay=1.5 HTTP/1.1\r\nHost: h\r\n\r\n")
        // Wait until the exchange is on its upstream (however loaded the machine).
        let deadline = Date().addingTimeInterval(5)
        while server.snapshot().reduce(0, { $0 + $1.upstreamConnections }) == 0 && Date() < deadline { usleep(5_000) }
        let outcomes = Mutex<[(DrainOutcome, Date)]>([])
        let done = DispatchSemaphore(value: 0)
        server.whenIdle([replica], timeout: 0.3) { o in
            outcomes.withLock { $0.append((o, Date())) }
            done.signal()
        }
        server.whenIdle([replica], timeout: 10) { o in
            outcomes.withLock { $0.append((o, Date())) }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(done.wait(timeout: .now() + 5) == .success)
        let r = try client.readResponse()
        #expect(r.status == 200)
        let got = outcomes.withLock { $0 }
        #expect(got.count == 2)
        #expect(got.contains { $0.0 == .timedOut(busy: [replica]) })
        let drained = try #require(got.first { $0.0 == .drained })
        #expect(drained.1.timeIntervalSince(sent) >= 1.4)
    }

    @Test func whenIdleOfAReplicaNeverRoutedCompletesAtOnce() throws {
        let config = try Config.parse(proxyConfig(containerApp), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .starting]))
        try server.start()
        defer { server.stop() }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<DrainOutcome?>(nil)
        server.whenIdle([Placement(netns: nil, port: 1)], timeout: 10) { o in
            outcome.withLock { $0 = o }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 1) == .success)
        #expect(outcome.withLock { $0 } == .drained)
    }
}

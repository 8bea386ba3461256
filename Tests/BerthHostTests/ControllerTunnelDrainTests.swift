import BerthConfig
@testable import BerthHost
import BerthRouting
import Foundation
import Logging
import Testing

/// Retiring an old version: exchanges drain first, then its tunnels are
/// kept up to `tunnel-drain`, then closed over `tunnel-drain-spread`, and
/// only then do its replicas stop.
@Suite struct ControllerTunnelDrainTests {
    func config(_ v: Int) throws -> Config {
        try Config.parse("listen 127.0.0.1:0\ntimeouts {\n start 3s\n drain 5s\n tunnel-drain 300ms\n tunnel-drain-spread 200ms\n}\n"
                         + "app web {\n path /web\n build apps/web\n env V=\(v)\n}\n", file: "/tmp/proxy.conf")
    }

    /// A controller on version 1, started.
    func started() throws -> (Controller, FakeDataPlane, FakeEngine) {
        let first = try config(1)
        let plane = FakeDataPlane(initial: Controller.initialRouting(first))
        let engine = FakeEngine(events: plane)
        let c = Controller(config: first, dataPlane: plane, engine: { engine }, logger: Logger(label: "test"), output: { _ in })
        c.stopGrace = 0.1
        #expect(c.start().isEmpty)
        return (c, plane, engine)
    }

    @Test func openTunnelsKeepTheOldVersionUntilTunnelDrainThenAreClosed() throws {
        let (c, plane, engine) = try started()
        plane.tunnelsOpen.withLock { $0 = true }
        engine.setImage("web", "image-web-2")
        let r = c.reload(try config(2))
        #expect(r.deployed == ["web"])
        #expect(waitUntil { plane.events.contains { $0.hasPrefix("stop berth-web-1-v1") } })
        let e = plane.events
        func at(_ what: String) throws -> Int { try #require(e.firstIndex(of: what), "\(what) in \(e)") }
        let idle = try at("idle"), kept = try at("tunnels timed out"), closing = try at("closeTunnels 1 spread 0.2")
        let closed = try at("tunnels closed")
        let stopped = try #require(e.firstIndex { $0.hasPrefix("stop berth-web-1-v1") })
        #expect(idle < kept && kept < closing && closing < closed && closed < stopped, "\(e)")
    }

    @Test func noTunnelsMeansNoWaitAndNoClose() throws {
        let (c, plane, engine) = try started()
        engine.setImage("web", "image-web-2")
        _ = c.reload(try config(2))
        #expect(waitUntil { plane.events.contains { $0.hasPrefix("stop berth-web-1-v1") } })
        #expect(!plane.events.contains { $0.hasPrefix("closeTunnels") })
        #expect(plane.events.contains("tunnels closed"))
    }
}

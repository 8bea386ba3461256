import BerthConfig
@testable import BerthHost
import BerthRouting
import Foundation
import Logging
import Testing

/// The first start with an earlier serve's replicas still running: those
/// that run what the config would start are adopted (watched, not
/// started), the rest are discarded once every app has started.
@Suite struct ControllerAdoptionTests {
    let conf = "listen 127.0.0.1:0\ntimeouts {\n start 3s\n}\napp web {\n path /web\n build apps/web\n replicas 2\n env V=1\n}\n"

    func survivor(_ app: AppConfig, n: Int, image: String, settings: String? = nil) -> Survivor {
        Survivor(id: "berth-\(app.name)-\(n)-v3-old\(n)", app: app.name, number: n, version: 3, imageID: image,
                 settings: settings ?? Survivor.digest(of: app), port: 8000)
    }

    @Test func matchingReplicasAreAdoptedAndTheRestDiscarded() throws {
        let config = try Config.parse(conf, file: "/tmp/proxy.conf")
        let web = try #require(config.apps.first)
        let plane = FakeDataPlane(initial: Controller.initialRouting(config))
        let engine = FakeEngine(events: plane)
        engine.recorded.withLock {
            $0.survivors = [
                survivor(web, n: 1, image: "image-web-1"),
                // Replica 2 ran other settings, and a third replica is no longer wanted.
                survivor(web, n: 2, image: "image-web-1", settings: "other"),
                survivor(web, n: 3, image: "image-web-1"),
            ]
        }
        let c = Controller(config: config, dataPlane: plane, engine: { engine }, logger: Logger(label: "test"), output: { _ in })
        c.stopGrace = 0.1
        #expect(c.start().isEmpty)
        let events = plane.events
        #expect(events.contains("watch berth-web-1-v3-old1"))
        #expect(!events.contains { $0.hasPrefix("start berth-web-1") })
        #expect(events.contains { $0.hasPrefix("start berth-web-2-v4") }, "a new replica 2, numbered after the adopted version: \(events)")
        #expect(engine.recorded.withLock { $0.discarded }.sorted() == ["berth-web-2-v3-old2", "berth-web-3-v3-old3"])
        // Discarded only once the apps were routed (the new replica 2 started first).
        let started = try #require(events.firstIndex { $0.hasPrefix("start berth-web-2") })
        let discarded = try #require(events.firstIndex { $0.hasPrefix("discard") })
        #expect(started < discarded, "\(events)")
        guard case .ready(let p) = plane.routing["web"] else {
            Issue.record("web is not routed")
            return
        }
        #expect(p.count == 2)
    }

    @Test func anImageChangeAdoptsNothing() throws {
        let config = try Config.parse(conf, file: "/tmp/proxy.conf")
        let web = try #require(config.apps.first)
        let plane = FakeDataPlane(initial: Controller.initialRouting(config))
        let engine = FakeEngine(events: plane)
        engine.recorded.withLock { $0.survivors = [survivor(web, n: 1, image: "image-web-0")] }
        let c = Controller(config: config, dataPlane: plane, engine: { engine }, logger: Logger(label: "test"), output: { _ in })
        #expect(c.start().isEmpty)
        #expect(!plane.events.contains { $0.hasPrefix("watch") })
        #expect(engine.recorded.withLock { $0.discarded } == ["berth-web-1-v3-old1"])
    }
}

import BerthConfig
@testable import BerthHost
import BerthRouting
import Foundation
import Logging
import Synchronization
import Testing

/// The control plane against a fake data plane and a fake engine: no
/// sockets, no containers; the order of what reached the data plane is the
/// thing under test.
@Suite struct ControllerTests {
    let conf = "listen 127.0.0.1:0\ntimeouts {\n start 3s\n drain 5s\n}\napp web {\n path /web\n build apps/web\n replicas 2\n ENV\n}\n"

    func config(env: String = "env V=1") throws -> Config {
        try Config.parse(conf.replacingOccurrences(of: "ENV", with: env), file: "/tmp/proxy.conf")
    }

    func make(_ config: Config) -> (Controller, FakeDataPlane, FakeEngine) {
        let plane = FakeDataPlane(initial: Controller.initialRouting(config))
        let engine = FakeEngine(events: plane)
        let c = Controller(config: config, dataPlane: plane, engine: { engine }, logger: Logger(label: "test"), output: { _ in })
        c.stopGrace = 0.1
        return (c, plane, engine)
    }

    /// Placements of the processes running `image`.
    func placements(_ engine: FakeEngine, image: String) -> Set<Placement> {
        Set(engine.processes.filter { $0.imageID == image && $0.status.pid != nil }
            .map { Placement(netns: "/proc/\($0.pid)/ns/net", port: 8000) })
    }

    @Test func firstStartHoldsThenRoutes() throws {
        let cfg = try config()
        let (c, plane, engine) = make(cfg)
        #expect(Controller.initialRouting(cfg) == ["web": .starting])
        // The gate refuses until the test lets it pass.
        let open = Mutex(false)
        plane.probeAnswer.withLock { $0 = { _ in open.withLock { $0 } } }
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = c.start()
            done.signal()
        }
        // Running but not passed: never routed, the app is still starting.
        #expect(waitUntil { !engine.processes.isEmpty })
        usleep(100_000)
        #expect(plane.routing["web"] == .starting)
        open.withLock { $0 = true }
        #expect(done.wait(timeout: .now() + 5) == .success)
        guard case .ready(let p) = plane.routing["web"] else {
            Issue.record("web is not routed: \(String(describing: plane.routing["web"]))")
            return
        }
        #expect(Set(p) == placements(engine, image: "image-web-1"))
        #expect(p.count == 2)
        #expect(c.status().map(\.health) == [.healthy, .healthy])
    }

    @Test func failedBuildAnswersFailed() throws {
        let (c, plane, engine) = make(try config())
        engine.failBuild("web", "base image not found")
        let failed = c.start()
        #expect(failed["web"]?.contains("base image not found") == true)
        guard case .failed(let why) = plane.routing["web"] else {
            Issue.record("web is not failed: \(String(describing: plane.routing["web"]))")
            return
        }
        #expect(why.contains("base image not found"))
        #expect(engine.processes.isEmpty)
    }

    @Test func redeploySwitchesOnlyAfterTheNewReplicasPassTheirGate() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        let v1 = placements(engine, image: "image-web-1")
        #expect(v1.count == 2)
        engine.setImage("web", "image-web-2")
        // v2's gate waits for the test; v1 keeps passing.
        let open = Mutex(false)
        let probedV2 = DispatchSemaphore(value: 0)
        plane.probeAnswer.withLock {
            $0 = { p in
                guard engine.image(of: p.netns) == "image-web-2" else { return true }
                probedV2.signal()
                return open.withLock { $0 }
            }
        }
        let report = Mutex<ReloadReport?>(nil)
        let done = DispatchSemaphore(value: 0)
        let next = try config(env: "env V=2")
        DispatchQueue.global().async {
            report.withLock { $0 = c.reload(next) }
            done.signal()
        }
        #expect(probedV2.wait(timeout: .now() + 5) == .success)
        // v2 runs beside v1, unrouted: no switch yet, web still on v1.
        #expect(!plane.events.contains { $0.hasPrefix("apply") })
        #expect(Set(plane.routing["web"]?.placements ?? []) == v1)
        #expect(c.status().contains { $0.version == .new })
        open.withLock { $0 = true }
        #expect(done.wait(timeout: .now() + 5) == .success)
        let r = try #require(report.withLock { $0 })
        guard case .applied(let g) = r.outcome else {
            Issue.record("not applied: \(r.outcome)")
            return
        }
        #expect(g.generation == 2)
        #expect(r.deployed == ["web"])
        let v2 = placements(engine, image: "image-web-2")
        #expect(v2.count == 2)
        #expect(Set(plane.recorded.withLock { $0.applied.last?.apps["web"]?.placements ?? [] }) == v2)
        // The old version is stopped after it drained.
        #expect(waitUntil { engine.processes.filter { $0.imageID == "image-web-1" }.allSatisfy { $0.stoppedAt != nil } })
        let events = plane.events
        let applied = try #require(events.firstIndex(of: "apply 2"))
        let idle = try #require(events.firstIndex(of: "idle"))
        let firstStop = try #require(events.firstIndex { $0.hasPrefix("stop berth-web-") && $0.hasSuffix("-v1") })
        #expect(applied < idle && idle < firstStop)
    }

    @Test func rollbackKeepsTheOldPlacementsAndSettings() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        let v1 = placements(engine, image: "image-web-1")
        engine.setImage("web", "image-web-2")
        plane.probeAnswer.withLock { $0 = { p in engine.image(of: p.netns) != "image-web-2" } }
        var next = try config(env: "env V=2")
        next.timeouts.start = 0.3
        let r = c.reload(next)
        #expect(r.failed["web"]?.contains("did not pass its port check") == true)
        guard case .applied = r.outcome else {
            Issue.record("the rest of the reload should apply: \(r.outcome)")
            return
        }
        let input = try #require(plane.recorded.withLock { $0.applied.last })
        #expect(Set(input.apps["web"]?.placements ?? []) == v1)
        #expect(input.config.apps.first { $0.name == "web" }?.env.first?.value == "1")  // old settings kept
        #expect(engine.processes.filter { $0.imageID == "image-web-2" }.allSatisfy { $0.stoppedAt != nil })
        #expect(engine.processes.filter { $0.imageID == "image-web-1" }.allSatisfy { $0.stoppedAt == nil })
    }

    /// The data plane says late that the old replicas are idle: until then
    /// they are not stopped, however long it takes.
    @Test func lateIdleAnswerNeverLetsBusyReplicasBeStopped() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        plane.idleDelay.withLock { $0 = 1.0 }
        engine.setImage("web", "image-web-2")
        let began = Date()
        _ = c.reload(try config(env: "env V=2"))
        #expect(waitUntil(timeout: 5) { engine.processes.filter { $0.imageID == "image-web-1" }.allSatisfy { $0.stoppedAt != nil } })
        let idleAt = try #require(plane.recorded.withLock { $0.idleCompletedAt.first })
        #expect(idleAt.timeIntervalSince(began) >= 0.9)
        for p in engine.processes where p.imageID == "image-web-1" {
            #expect(try #require(p.stoppedAt) >= idleAt)
        }
    }

    /// A switch the data plane refuses (a worker did not acknowledge): the
    /// reload is reported failed, the new version is stopped, the old stays routed.
    @Test func refusedSwitchStopsTheNewVersionAndKeepsTheOld() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        let v1 = placements(engine, image: "image-web-1")
        engine.setImage("web", "image-web-2")
        plane.applyError.withLock { $0 = .workerDidNotAcknowledge(worker: 1, seconds: 10) }
        let r = c.reload(try config(env: "env V=2"))
        guard case .rejected(let why) = r.outcome else {
            Issue.record("should be rejected: \(r.outcome)")
            return
        }
        #expect(why.contains("worker 1 did not acknowledge"))
        #expect(r.generation == 1)
        #expect(waitUntil { engine.processes.filter { $0.imageID == "image-web-2" }.allSatisfy { $0.stoppedAt != nil } })
        #expect(engine.processes.filter { $0.imageID == "image-web-1" }.allSatisfy { $0.stoppedAt == nil })
        #expect(Set(plane.routing["web"]?.placements ?? []) == v1)
        #expect(c.status().filter { $0.version == .live }.count == 2)
    }

    @Test func stopDrainsBeforeStoppingReplicas() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        #expect(c.stop(drainTimeout: 1))
        let events = plane.events
        let drained = try #require(events.firstIndex(of: "drainAll"))
        let stops = events.indices.filter { events[$0].hasPrefix("stop ") }
        #expect(stops.count == 2)
        #expect(stops.allSatisfy { $0 > drained })
        #expect(engine.processes.allSatisfy { $0.stoppedAt != nil })
        // Stopping: no reload is applied any more.
        guard case .rejected = c.reload(try config(env: "env V=3")).outcome else {
            Issue.record("a reload after stop should be rejected")
            return
        }
    }

    /// The old version has no replica routable (crash-looping): the data
    /// plane may answer at once that it is idle, and stopping it (whose
    /// replicas publish routing as they stop) must not wait on the reload.
    @Test func retiringAVersionWithNoRoutableReplicaDoesNotDeadlock() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        for p in engine.processes { p.exit() }
        #expect(waitUntil { plane.routing["web"] == .ready([]) })
        engine.setImage("web", "image-web-2")
        let done = DispatchSemaphore(value: 0)
        let next = try config(env: "env V=2")
        DispatchQueue.global().async {
            _ = c.reload(next)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(waitUntil { engine.processes.filter { $0.imageID == "image-web-1" }.allSatisfy { $0.stoppedAt != nil } })
        #expect(plane.routing["web"]?.placements.count == 2)
    }

    @Test func droppedAppIsDrainedThenStopped() throws {
        let (c, plane, engine) = make(try config())
        c.start()
        let r = c.reload(try Config.parse("listen 127.0.0.1:0\n", file: "/tmp/proxy.conf"))
        #expect(r.removed == ["web"])
        #expect(waitUntil { engine.processes.allSatisfy { $0.stoppedAt != nil } })
        let events = plane.events
        #expect(try #require(events.firstIndex(of: "idle")) < (events.firstIndex { $0.hasPrefix("stop ") } ?? -1))
        #expect(waitUntil { c.status().isEmpty })
    }
}

/// Polls `condition` every 10 ms (the fakes report on other threads).
func waitUntil(timeout: Double = 3, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

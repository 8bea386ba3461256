import BerthConfig
@testable import BerthHost
import BerthRouting
import Foundation
import Logging
import Synchronization
import Testing

/// Links, start order and `recreate` against the fake data plane and engine:
/// the order of events is what is under test.
@Suite struct ControllerLinkTests {
    func make(_ text: String) throws -> (Controller, FakeDataPlane, FakeEngine, Config) {
        let config = try Config.parse(text, file: "/tmp/proxy.conf")
        let plane = FakeDataPlane(initial: Controller.initialRouting(config))
        let engine = FakeEngine(events: plane)
        let c = Controller(config: config, dataPlane: plane, engine: { engine }, logger: Logger(label: "test"), output: { _ in })
        c.stopGrace = 0.1
        return (c, plane, engine, config)
    }

    static let apps = """
    listen 127.0.0.1:0
    timeouts {
     start 3s
     drain 1s
    }
    app db {
     image postgres
     port 5432
     volume pgdata:/var/lib/postgresql/data
     ENV
    }
    app web {
     path /web
     image web
     port 8000
     link db
    }
    """

    @Test func aConsumerStartsAfterItsLinkAndGetsItsListener() throws {
        let (c, plane, _, _) = try make(Self.apps.replacingOccurrences(of: "ENV", with: ""))
        // db's gate passes only after 300 ms: web (built at once) must wait for it.
        let firstProbe = Mutex<Date?>(nil)
        plane.probeAnswer.withLock { $0 = { p in
            guard p.port == 5432 else { return true }
            let first = firstProbe.withLock { f -> Date in
                if f == nil { f = Date() }
                return f!
            }
            return Date().timeIntervalSince(first) > 0.3
        } }
        #expect(c.start().isEmpty)
        let events = plane.events
        let dbStart = try #require(events.firstIndex { $0.hasPrefix("start berth-db-1") })
        let dbRouted = try #require(events[dbStart...].firstIndex { $0 == "route" })
        let webStart = try #require(events.firstIndex { $0.hasPrefix("start berth-web-1") })
        #expect(dbRouted < webStart, "\(events)")
        // web's links opened in its run's namespace, db's none.
        #expect(events.filter { $0.hasPrefix("links ") } == ["links db:5432"], "\(events)")
    }

    @Test func aFailedLinkFailsItsConsumer() throws {
        let (c, plane, engine, _) = try make(Self.apps.replacingOccurrences(of: "ENV", with: ""))
        engine.failBuild("db", "no such image")
        let failed = c.start()
        #expect(failed["db"]?.contains("no such image") == true)
        #expect(failed["web"]?.contains("its link db did not start") == true)
        #expect(!plane.events.contains { $0.hasPrefix("start berth-web") })
    }

    @Test func recreateStopsTheOldVersionBeforeStartingTheNew() throws {
        let (c, plane, engine, _) = try make(Self.apps.replacingOccurrences(of: "ENV", with: "env V=1"))
        #expect(c.start().isEmpty)
        engine.setImage("db", "image-db-2")
        let next = try Config.parse(Self.apps.replacingOccurrences(of: "ENV", with: "env V=2"), file: "/tmp/proxy.conf")
        let report = c.reload(next)
        #expect(report.failed.isEmpty && report.deployed == ["db"], "\(report)")
        let events = plane.events
        let oldStop = try #require(events.firstIndex { $0.hasPrefix("stop berth-db-1-v") })
        let newStart = try #require(events.lastIndex { $0.hasPrefix("start berth-db-1-v") })
        #expect(oldStop < newStart, "never two versions on one data directory: \(events)")
        #expect(events.filter { $0.hasPrefix("start berth-db") }.count == 2)
    }

    @Test func aFailedRecreateStartsTheOldVersionAgain() throws {
        let (c, plane, engine, _) = try make(Self.apps.replacingOccurrences(of: "ENV", with: "env V=1"))
        #expect(c.start().isEmpty)
        engine.setImage("db", "image-db-2")
        // The new version never passes its gate; the old one does.
        plane.probeAnswer.withLock { $0 = { p in
            p.port != 5432 || engine.image(of: p.netns) != "image-db-2"
        } }
        let next = try Config.parse(Self.apps.replacingOccurrences(of: "ENV", with: "env V=2"), file: "/tmp/proxy.conf")
        let report = c.reload(next)
        #expect(report.failed["db"] != nil)
        let running = engine.processes.filter { $0.status.pid != nil && $0.id.hasPrefix("berth-db") }
        #expect(running.map(\.imageID) == ["image-db-1"], "the old version runs again")
        guard case .ready(let p) = plane.routing["db"] else {
            Issue.record("db is not ready: \(String(describing: plane.routing["db"]))")
            return
        }
        #expect(p.count == 1 && engine.image(of: p[0].netns) == "image-db-1")
        #expect(c.status().filter { $0.app == "db" }.map(\.health) == [.healthy])
    }
}

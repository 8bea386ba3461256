import BerthConfig
@testable import BerthHost
import BerthImage
import BerthRouting
import Foundation
import Logging
import Synchronization
import Testing

/// The real engine (builder and store), where no container needs to run.
@Suite struct RuncEngineTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-host-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A Dockerfile HEALTHCHECK is the default `health exec` of an app that names none.
    @Test func theImageHealthcheckIsTheDefaultHealthExec() throws {
        let dir = try scratch()
        let store = try ImageStore(root: dir + "/state")
        let engine = RuncEngine(store: store, logger: Logger(label: "test"), output: { _ in })
        var ids: [String] = []
        for (name, line) in [("cmd", "HEALTHCHECK --interval=2s --timeout=1s --retries=5 CMD [\"pg_isready\", \"-U\", \"app\"]"),
                             ("shell", "HEALTHCHECK CMD test -f /ready || exit 1"), ("none", "HEALTHCHECK NONE"), ("plain", "")] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(name)", withIntermediateDirectories: true)
            try "FROM scratch\n\(line)\n".write(toFile: "\(dir)/\(name)/Dockerfile", atomically: true, encoding: .utf8)
            var app = AppConfig(name: name, location: SourceLocation(file: "t", line: 1, column: 1))
            app.build = "\(dir)/\(name)"
            ids.append(try engine.build(app, base: dir, progress: { _ in }))
        }
        let cmd = try #require(engine.imageHealth(ids[0]))
        #expect(cmd.command == ["pg_isready", "-U", "app"] && cmd.interval == 2 && cmd.timeout == 1 && cmd.fall == 5 && cmd.rise == 1)
        let shell = try #require(engine.imageHealth(ids[1]))
        #expect(shell.command == ["/bin/sh", "-c", "test -f /ready || exit 1"] && shell.interval == 30 && shell.fall == 3)
        #expect(engine.imageHealth(ids[2]) == nil)
        #expect(engine.imageHealth(ids[3]) == nil)
    }

    /// An app whose build fails is reported and answers 503 (failed);
    /// nothing is left running.
    @Test func failedBuildIsReportedAndRoutedAsFailed() throws {
        let dir = try scratch()
        try FileManager.default.createDirectory(atPath: dir + "/broken", withIntermediateDirectories: true)
        try "FROM image-that-is-not-here:1\n".write(toFile: dir + "/broken/Dockerfile", atomically: true, encoding: .utf8)
        let config = try Config.parse("listen :1\napp broken {\n path /b\n build broken\n}\n", file: dir + "/proxy.conf")
        let store = try ImageStore(root: dir + "/state")
        let lines = Mutex<[String]>([])
        let out: @Sendable (String) -> Void = { l in lines.withLock { $0.append(l) } }
        let plane = FakeDataPlane(initial: Controller.initialRouting(config))
        let c = Controller(config: config, dataPlane: plane,
                           engine: { RuncEngine(store: store, logger: Logger(label: "test"), output: out) },
                           logger: Logger(label: "test"), output: out)
        #expect(c.start().keys.sorted() == ["broken"])
        guard case .failed = plane.routing["broken"] else {
            Issue.record("not failed: \(String(describing: plane.routing["broken"]))")
            return
        }
        #expect(lines.withLock { $0.contains { $0.contains("[run]   broken  failed:") && $0.contains("not in the local store") } })
        c.stopAll(grace: 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/state/containers").isEmpty)
    }

    /// `runtime crun` where crun can't run containers (this host's hybrid
    /// cgroups): berth says why and uses runc.
    @Test func crunFallsBackToRuncWithAReason() throws {
        let store = try ImageStore(root: try scratch() + "/state")
        let lines = Mutex<[String]>([])
        let engine = RuncEngine(store: store, runtime: .crun, logger: Logger(label: "test"), output: { l in lines.withLock { $0.append(l) } })
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified") {
            #expect(engine.runtime == "runc")
            #expect(lines.withLock { $0.contains { $0.contains("runtime crun cannot start containers here") && $0.contains("using runc") } })
        } else {
            #expect(engine.runtime == "crun")
        }
    }
}

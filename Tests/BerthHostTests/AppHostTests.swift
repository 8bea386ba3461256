import Testing
import Foundation
import Logging
import Synchronization
import BerthConfig
import BerthImage
@testable import BerthHost

@Suite struct AppHostTests {
    /// An app whose build fails is reported and left without placements
    /// (the proxy answers 503 for it); nothing is left running.
    @Test func failedBuildGetsNoPlacements() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-host-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/broken", withIntermediateDirectories: true)
        try "FROM image-that-is-not-here:1\n".write(toFile: dir + "/broken/Dockerfile", atomically: true, encoding: .utf8)
        let config = try Config.parse("listen :1\napp broken {\n path /b\n build broken\n}\n", file: dir + "/proxy.conf")
        let store = try ImageStore(root: dir + "/state")
        let lines = Mutex<[String]>([])
        let host = AppHost(store: store, logger: Logger(label: "test"), output: { l in lines.withLock { $0.append(l) } })
        #expect(host.start(config).keys.sorted() == ["broken"])
        #expect(host.placements.isEmpty)  // not listed: the proxy answers 503 at once
        #expect(lines.withLock { $0.contains { $0.contains("[run]   broken  failed:") && $0.contains("not in the local store") } })
        host.stopAll(grace: 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/state/containers").isEmpty)
    }

    @Test func freePortIsBindable() {
        let p = AppHost.freePort()
        #expect(p > 1024 && p < 65536)
    }

    /// `runtime crun` where crun can't run containers (this host's hybrid
    /// cgroups): berth says why and uses runc.
    @Test func crunFallsBackToRuncWithAReason() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-host-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try ImageStore(root: dir + "/state")
        let lines = Mutex<[String]>([])
        let host = AppHost(store: store, runtime: "crun", logger: Logger(label: "test"), output: { l in lines.withLock { $0.append(l) } })
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified") {
            #expect(host.runtime == "runc")
            #expect(lines.withLock { $0.contains { $0.contains("runtime crun cannot start containers here") && $0.contains("using runc") } })
        } else {
            #expect(host.runtime == "crun")
        }
    }
}

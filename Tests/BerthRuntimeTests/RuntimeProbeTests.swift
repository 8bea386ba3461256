import Testing
import Foundation
@testable import BerthRuntime

/// Which OCI runtime can start a container here: `runtime crun` falls back
/// to runc when the probe fails.
@Suite struct RuntimeProbeTests {
    let scratch = FileManager.default.temporaryDirectory.path

    @Test func runcStartsAContainer() {
        let (works, why) = RuntimeProbe.check("runc", scratch: scratch)
        #expect(works, "\(why)")
    }

    @Test func aMissingRuntimeDoesNot() {
        let (works, why) = RuntimeProbe.check("no-such-runtime", scratch: scratch)
        #expect(!works && !why.isEmpty)
    }

    /// crun 1.8 refuses cgroup v1 + v2 hybrid layouts (this machine's: v1
    /// controllers plus /sys/fs/cgroup/unified), with a message that says so.
    @Test func crunOnAHybridCgroupLayoutDoesNot() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/crun"), "crun is installed by scripts/setup.sh")
        let hybrid = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified")
            && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory")
        let (works, why) = RuntimeProbe.check("crun", scratch: scratch)
        #expect(works == !hybrid, "\(why)")
        if hybrid { #expect(why.contains("cgroup"), "\(why)") }
    }
}

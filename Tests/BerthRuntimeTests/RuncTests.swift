import Testing
import Foundation
@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

/// A busybox root file system for containers (busybox-static from Debian).
func busyboxRootfs() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("berth-rt-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: d + "/bin", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: d + "/bin/busybox")
    for tool in ["sh", "echo", "cat", "rm", "ls", "id", "hostname", "grep"] {
        try FileManager.default.createSymbolicLink(atPath: d + "/bin/\(tool)", withDestinationPath: "busybox")
    }
    return d
}

final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite(.serialized) struct RuncTests {
    @Test func runOnAnOverlayRecordsChangesInTheUpperDir() throws {
        let lower = try busyboxRootfs()
        let work = lower + "-w"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let overlay = try OverlayMount(lowers: [lower], upper: work + "/upper", work: work + "/work", target: work + "/rootfs")
        defer { overlay.unmount() }
        let bundle = work + "/bundle"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        let spec = OCISpec(rootfs: work + "/rootfs", args: ["/bin/sh", "-c", "echo out; echo made > /made; rm /bin/ls; hostname; id -u; grep CapEff /proc/self/status; exit 3"],
                           env: ["PATH=/bin"], cwd: "/", hostname: "berth-test", hostNetwork: true)
        try spec.write(to: bundle)
        let lines = Lines()
        let status = try Runc(stateRoot: work + "/runc").run(bundle: bundle, id: "t-\(getpid())-\(UInt32.random(in: 0...UInt32.max))") { lines.add($0) }
        #expect(status == 3)
        #expect(lines.all.prefix(3) == ["out", "berth-test", "0"])
        // Docker's 14 capabilities: 0x00000000a80425fb.
        #expect(lines.all.contains { $0.hasSuffix("00000000a80425fb") })
        #expect(FileManager.default.contents(atPath: work + "/upper/made") == Data("made\n".utf8))
        var st = stat()
        #expect(lstat(work + "/upper/bin/ls", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)  // whiteout
        #expect(FileManager.default.fileExists(atPath: lower + "/bin/ls"))  // the layer below is untouched
    }

    @Test func rlimitsNeverExceedTheHostHardLimit() {
        var r = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        let l = OCISpec.noFileLimit()
        #expect(l.hard <= UInt64(r.rlim_max) && l.soft <= l.hard)
    }
}

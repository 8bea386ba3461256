import Testing
import Foundation
@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Real runc: Docker's default seccomp profile and no_new_privs, and the
/// explicit opt-out, seen from inside the container.
@Suite(.serialized) struct ContainerSecurityTests {
    /// The probe (Fixtures/syscall-probe.c), built static once.
    static let probe: String = {
        let src = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/syscall-probe.c").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("berth-probe-\(UUID().uuidString)").path
        let cc = FileManager.default.isExecutableFile(atPath: "/opt/swift/usr/bin/clang") ? "/opt/swift/usr/bin/clang" : "cc"
        let (status, text) = sh("\(cc) -static -O1 -o \(out) \(src) 2>&1")
        precondition(status == 0, "cannot build the syscall probe: \(text)")
        return out
    }()

    func inside(_ security: ContainerSecurity, name: String) throws -> [String] {
        let lower = try busyboxRootfs()
        try FileManager.default.copyItem(atPath: Self.probe, toPath: lower + "/bin/probe")
        try FileManager.default.createDirectory(atPath: lower + "/mnt", withIntermediateDirectories: true)
        let script = "grep -E '^(Seccomp|NoNewPrivs):' /proc/1/status; probe unshare; probe keyctl; probe mount; exit 0"
        let id = "berth-sec-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let c = try Container(id: id, dir: lower + "-c", layers: [lower],
                              process: .init(args: ["/bin/sh", "-c", script], env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0),
                              hostname: name, network: .isolated, security: security, runc: Runc(stateRoot: lower + "-runc"))
        defer { c.remove() }
        let lines = Lines()
        let status = try c.runc.run(bundle: c.dir + "/bundle", id: c.id) { lines.add($0) }
        #expect(status == 0, "\(lines.all)")
        return lines.all.map { $0.replacingOccurrences(of: "\t", with: " ") }
    }

    @Test func theDefaultProfileAndNoNewPrivileges() throws {
        let out = try inside(.hardened, name: "hardened")
        #expect(out.contains("Seccomp: 2"), "\(out)")
        #expect(out.contains("NoNewPrivs: 1"), "\(out)")
        #expect(out.contains("unshare EPERM") && out.contains("keyctl EPERM") && out.contains("mount EPERM"), "\(out)")
    }

    @Test func unconfinedLiftsTheFilter() throws {
        let out = try inside(ContainerSecurity(seccomp: .unconfined, noNewPrivileges: false), name: "unconfined")
        #expect(out.contains("Seccomp: 0") && out.contains("NoNewPrivs: 0"), "\(out)")
        #expect(out.contains("unshare ok") && out.contains("keyctl ok") && out.contains("mount ok"), "\(out)")
    }

    @Test func theProfileIsWhatDockerBlocks() {
        let p = SeccompProfile.dockerDefault
        let allowed = Set(p.syscalls.filter { $0.action == "SCMP_ACT_ALLOW" && $0.args == nil }.flatMap(\.names))
        #expect(p.defaultAction == "SCMP_ACT_ERRNO" && p.defaultErrnoRet == 1)
        for blocked in ["mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key", "kexec_load", "reboot", "bpf",
                        "perf_event_open", "init_module", "swapon", "pivot_root", "open_by_handle_at", "userfaultfd"] {
            #expect(!allowed.contains(blocked), "\(blocked)")
        }
        for needed in ["read", "write", "openat", "execve", "epoll_wait", "accept4", "setresuid", "chroot", "ptrace"] {
            #expect(allowed.contains(needed), "\(needed)")
        }
        #expect(p.syscalls.contains { $0.names == ["clone3"] && $0.errnoRet == 38 })
    }
}

import Testing
import Foundation
@testable import BerthRuntime

/// The generated config.json, read back as runc reads it.
@Suite struct OCISpecTests {
    func written(_ spec: OCISpec) throws -> [String: Any] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-spec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try spec.write(to: dir)
        let data = try #require(FileManager.default.contents(atPath: dir + "/config.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func isolatedContainerGetsItsOwnNamespacesCapsAndMounts() throws {
        var spec = OCISpec(rootfs: "/r", args: ["/app", "-x"], env: ["A=1"], cwd: "/srv", uid: 33, gid: 34,
                           hostname: "web-2", hostNetwork: false)
        spec.bind("/state/c/hosts", to: "/etc/hosts")
        let j = try written(spec)
        #expect(j["hostname"] as? String == "web-2")
        let process = try #require(j["process"] as? [String: Any])
        #expect(process["args"] as? [String] == ["/app", "-x"])
        #expect(process["cwd"] as? String == "/srv")
        let user = try #require(process["user"] as? [String: Any])
        #expect(user["uid"] as? Int == 33 && user["gid"] as? Int == 34)
        let caps = try #require(process["capabilities"] as? [String: [String]])
        #expect(caps["bounding"]?.count == 14 && caps["effective"] == caps["bounding"])
        #expect(!(caps["bounding"] ?? []).contains("CAP_SYS_ADMIN") && !(caps["bounding"] ?? []).contains("CAP_NET_ADMIN"))
        let linux = try #require(j["linux"] as? [String: Any])
        let ns = (linux["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(Set(ns) == ["pid", "ipc", "uts", "mount", "network"])
        #expect((linux["maskedPaths"] as? [String] ?? []).contains("/proc/kcore"))
        #expect((linux["readonlyPaths"] as? [String] ?? []).contains("/proc/sys"))
        #expect(linux["resources"] == nil)  // no limits asked for
        let mounts = (j["mounts"] as? [[String: Any]] ?? []).compactMap { $0["destination"] as? String }
        for m in ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts"] { #expect(mounts.contains(m)) }
        let rlimits = process["rlimits"] as? [[String: Any]] ?? []
        var hard = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &hard)
        #expect(rlimits.allSatisfy { ($0["hard"] as? UInt64 ?? .max) <= UInt64(hard.rlim_max) })
    }

    @Test func securityBecomesSeccompAndNoNewPrivileges() throws {
        var spec = OCISpec(rootfs: "/r", args: ["/app"], env: [], cwd: "/", hostname: "h", hostNetwork: false)
        #expect((try written(spec)["linux"] as? [String: Any])?["seccomp"] == nil, "a bare spec is unconfined")
        spec.secure(.hardened)
        var j = try written(spec)
        let seccomp = try #require((j["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        #expect(seccomp["defaultAction"] as? String == "SCMP_ACT_ERRNO" && seccomp["defaultErrnoRet"] as? Int == 1)
        #expect(seccomp["architectures"] as? [String] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        let rules = try #require(seccomp["syscalls"] as? [[String: Any]])
        let clone = try #require(rules.first { $0["names"] as? [String] == ["clone"] })
        #expect((clone["args"] as? [[String: Any]])?.first?["op"] as? String == "SCMP_CMP_MASKED_EQ")
        #expect((j["process"] as? [String: Any])?["noNewPrivileges"] as? Bool == true)
        spec.secure(ContainerSecurity(seccomp: .unconfined, noNewPrivileges: false))
        j = try written(spec)
        #expect((j["linux"] as? [String: Any])?["seccomp"] == nil)
        #expect((j["process"] as? [String: Any])?["noNewPrivileges"] as? Bool == false)
    }

    @Test func hostNetworkKeepsTheHostsNamespace() throws {
        let j = try written(OCISpec(rootfs: "/r", args: ["/a"], env: [], cwd: "/", hostname: "h", hostNetwork: true))
        let ns = ((j["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(!ns.contains("network") && ns.contains("pid"))
    }

    @Test func limitsBecomeCgroupResources() throws {
        var spec = OCISpec(rootfs: "/r", args: ["/a"], env: [], cwd: "/", hostname: "h", hostNetwork: false)
        spec.limit(ResourceLimits(memory: 256 << 20, cpus: 0.5, pids: 100), cgroup: "berth-web-1-abc")
        let linux = try #require(try written(spec)["linux"] as? [String: Any])
        #expect(linux["cgroupsPath"] as? String == "/berth/berth-web-1-abc")
        let r = try #require(linux["resources"] as? [String: Any])
        #expect((r["memory"] as? [String: Any])?["limit"] as? Int == 256 << 20)
        #expect((r["cpu"] as? [String: Any])?["quota"] as? Int == 50_000)
        #expect((r["cpu"] as? [String: Any])?["period"] as? Int == 100_000)
        #expect((r["pids"] as? [String: Any])?["limit"] as? Int == 100)
        // Only a pids cap by default.
        var plain = OCISpec(rootfs: "/r", args: ["/a"], env: [], cwd: "/", hostname: "h", hostNetwork: false)
        plain.limit(ResourceLimits(), cgroup: "x")
        let pr = try #require((try written(plain)["linux"] as? [String: Any])?["resources"] as? [String: Any])
        #expect(pr["memory"] == nil && pr["cpu"] == nil && (pr["pids"] as? [String: Any])?["limit"] as? Int == ResourceLimits.defaultPids)
    }
}

@Suite struct ContainerSignalTests {
    @Test func stopSignalsAsDockerfilesWriteThem() {
        #expect(ContainerSignal(stopSignal: nil) == .term)
        #expect(ContainerSignal(stopSignal: "") == .term)
        #expect(ContainerSignal(stopSignal: "SIGQUIT") == .quit)
        #expect(ContainerSignal(stopSignal: "quit") == .quit)
        #expect(ContainerSignal(stopSignal: "3") == .number(3))
        #expect(ContainerSignal(stopSignal: "SIGRTMIN+3") == .named("RTMIN+3"))
        #expect(ContainerSignal.kill.runcName == "KILL")
        #expect(ContainerSignal.number(9).runcName == "9")
    }
}

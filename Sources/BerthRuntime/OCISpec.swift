#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The OCI runtime config (config.json) berth writes for runc: Docker's
/// default capabilities, masked and read-only /proc paths, the usual /dev
/// mounts, rlimits no higher than this host's hard limits.
public struct OCISpec: Codable, Sendable {
    public struct User: Codable, Sendable { public var uid: UInt32; public var gid: UInt32 }
    public struct Capabilities: Codable, Sendable {
        public var bounding, effective, permitted: [String]
    }
    public struct Rlimit: Codable, Sendable { public var type: String; public var hard: UInt64; public var soft: UInt64 }
    public struct Process: Codable, Sendable {
        public var terminal = false
        public var user: User
        public var args: [String]
        public var env: [String]
        public var cwd: String
        public var capabilities: Capabilities
        public var rlimits: [Rlimit]
        public var noNewPrivileges = false
    }
    public struct Root: Codable, Sendable { public var path: String; public var readonly: Bool }
    public struct Mount: Codable, Sendable {
        public var destination: String
        public var type: String
        public var source: String
        public var options: [String]

        public init(destination: String, type: String, source: String, options: [String]) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }
    public struct Namespace: Codable, Sendable {
        public var type: String
        public var path: String?
    }
    public struct Linux: Codable, Sendable {
        public var namespaces: [Namespace]
        public var maskedPaths: [String]
        public var readonlyPaths: [String]
        public var resources: Resources?
        /// Where runc makes the container's cgroups (`/berth/ID` under each controller).
        public var cgroupsPath: String?
        public var seccomp: SeccompProfile?
    }
    public struct Resources: Codable, Sendable {
        public struct Memory: Codable, Sendable { public var limit: Int64; public var swap: Int64? }
        public struct CPU: Codable, Sendable { public var quota: Int64; public var period: UInt64 }
        public struct Pids: Codable, Sendable { public var limit: Int64 }
        public var memory: Memory?
        public var cpu: CPU?
        public var pids: Pids?
    }

    public var ociVersion = "1.0.2"
    public var process: Process
    public var root: Root
    public var hostname: String
    public var mounts: [Mount]
    public var linux: Linux

    /// Docker's default capability set (14).
    public static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]

    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// A spec for running `args` in `rootfs`. `hostNetwork` keeps the host's
    /// network namespace (build steps); otherwise the container gets its own.
    public init(rootfs: String, args: [String], env: [String], cwd: String, uid: UInt32 = 0, gid: UInt32 = 0,
                hostname: String, hostNetwork: Bool) {
        let caps = Capabilities(bounding: Self.defaultCapabilities, effective: Self.defaultCapabilities,
                                permitted: Self.defaultCapabilities)
        process = Process(user: User(uid: uid, gid: gid), args: args, env: env, cwd: cwd, capabilities: caps,
                          rlimits: [Self.noFileLimit()])
        root = Root(path: rootfs, readonly: false)
        self.hostname = hostname
        mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: []),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
        ]
        var namespaces = ["pid", "ipc", "uts", "mount"].map { Namespace(type: $0) }
        if !hostNetwork { namespaces.append(Namespace(type: "network")) }
        linux = Linux(namespaces: namespaces, maskedPaths: Self.maskedPaths, readonlyPaths: Self.readonlyPaths)
    }

    /// Applies `security`: the seccomp filter and no_new_privs.
    public mutating func secure(_ security: ContainerSecurity) {
        linux.seccomp = security.seccomp == .default ? SeccompProfile.dockerDefault : nil
        process.noNewPrivileges = security.noNewPrivileges
    }

    /// Puts the container in cgroup `/berth/ID` with `limits`.
    public mutating func limit(_ limits: ResourceLimits, cgroup id: String) {
        var r = Resources()
        if let m = limits.memory {
            let bytes = Int64(m)
            r.memory = Resources.Memory(limit: bytes, swap: Self.swapAccounting ? bytes : nil)
        }
        if let c = limits.cpus {
            let period = ResourceLimits.cpuPeriod
            r.cpu = Resources.CPU(quota: max(1000, Int64((c * Double(period)).rounded())), period: UInt64(period))
        }
        r.pids = Resources.Pids(limit: Int64(limits.pids))
        linux.resources = r
        linux.cgroupsPath = "/berth/" + id
    }

    /// Whether the kernel accounts swap per cgroup (memory.memsw.*); when it
    /// does, memory+swap is capped at the memory limit, as `--memory-swap`
    /// equal to `--memory` does in Docker.
    static let swapAccounting: Bool = access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0
        || access("/sys/fs/cgroup/memory.swap.max", F_OK) == 0

    /// Adds a read-only bind mount of a host file or directory.
    public mutating func bind(_ source: String, to destination: String, writable: Bool = false) {
        mounts.append(Mount(destination: destination, type: "bind", source: source, options: ["rbind", writable ? "rw" : "ro"]))
    }

    /// RLIMIT_NOFILE at this process's hard limit (capped at 1M): raising it
    /// would need CAP_SYS_RESOURCE, which this host may not grant.
    static func noFileLimit() -> Rlimit {
        var r = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        let hard = min(UInt64(r.rlim_max), 1 << 20)
        return Rlimit(type: "RLIMIT_NOFILE", hard: hard, soft: hard)
    }

    public func write(to bundle: String) throws(RuntimeError) {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(self), FileManager.default.createFile(atPath: bundle + "/config.json", contents: data) else {
            throw RuntimeError("cannot write \(bundle)/config.json")
        }
    }
}

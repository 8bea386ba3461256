import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One container: an overlay of image layers plus its own upper dir, an OCI
/// bundle, its own pid/mount/ipc/uts (and, when isolated, network)
/// namespaces, /etc/hosts and /etc/resolv.conf bound in. The directory
/// `dir` holds everything; `remove()` deletes it.
public final class Container {
    public struct Process: Sendable {
        public var args: [String]
        public var env: [String]
        public var cwd: String
        public var uid: UInt32
        public var gid: UInt32
        /// What `stop` sends first (the image's STOPSIGNAL; `TERM` by default).
        public var stopSignal: ContainerSignal

        public init(args: [String], env: [String], cwd: String, uid: UInt32, gid: UInt32, stopSignal: ContainerSignal = .term) {
            self.args = args
            self.env = env
            self.cwd = cwd
            self.uid = uid
            self.gid = gid
            self.stopSignal = stopSignal
        }
    }

    public enum Network: Sendable {
        /// Its own network namespace: loopback only.
        case isolated
        /// The host's.
        case host
    }

    public let id: String
    public let dir: String
    public let runc: Runc
    public let stopSignal: ContainerSignal
    private var overlay: OverlayMount?
    /// Shared locks on the volumes it mounts (released by `remove()`).
    private var volumeHolds: [Int32] = []

    /// What running it needs (a keeper process gets this alone).
    public var run: ContainerRun { ContainerRun(id: id, dir: dir, runc: runc, stopSignal: stopSignal) }

    /// Prepares the root file system and the bundle (nothing runs yet).
    public init(id: String, dir: String, layers: [String], process: Process, hostname: String,
                network: Network, limits: ResourceLimits? = nil, security: ContainerSecurity = .hardened,
                mounts: [ContainerMount] = [], volumes: VolumeStore? = nil, runc: Runc) throws(RuntimeError) {
        self.id = id
        self.dir = dir
        self.runc = runc
        stopSignal = process.stopSignal
        for d in [dir, dir + "/bundle", dir + "/empty"] where mkdir(d, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError("cannot create \(d): \(String(cString: strerror(errno)))")
        }
        let lowers = layers.isEmpty ? [dir + "/empty"] : layers.reversed()
        overlay = try OverlayMount(lowers: lowers, upper: dir + "/upper", work: dir + "/work", target: dir + "/rootfs")
        let hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(hostname)\n"
        guard FileManager.default.createFile(atPath: dir + "/hosts", contents: Data(hosts.utf8)) else {
            throw RuntimeError("cannot write \(dir)/hosts")
        }
        let resolv = FileManager.default.contents(atPath: "/etc/resolv.conf") ?? Data()
        guard FileManager.default.createFile(atPath: dir + "/resolv.conf", contents: resolv) else {
            throw RuntimeError("cannot write \(dir)/resolv.conf")
        }
        var spec = OCISpec(rootfs: dir + "/rootfs", args: process.args, env: process.env, cwd: process.cwd,
                           uid: process.uid, gid: process.gid, hostname: hostname, hostNetwork: network == .host)
        spec.bind(dir + "/hosts", to: "/etc/hosts")
        spec.bind(dir + "/resolv.conf", to: "/etc/resolv.conf")
        if let limits { spec.limit(limits, cgroup: id) }
        spec.secure(security)
        for m in mounts {
            switch m.source {
            case .volume(let name):
                guard let volumes else { throw RuntimeError("volume \(name): no volume store") }
                let path = try volumes.create(name)
                volumeHolds.append(try volumes.hold(name))
                // Seed only from inside the image: a symbolic link must not lead to the host's files.
                let source = dir + "/rootfs" + m.target
                if HostPath.leadsInside(source, root: dir + "/rootfs"), let real = HostPath.real(source) {
                    try volumes.seed(name, from: real)
                } else if FileManager.default.fileExists(atPath: source) {
                    throw RuntimeError("volume \(name): \(m.target) in the image leads outside it (a symbolic link)")
                }
                spec.bind(path, to: m.target, writable: !m.readOnly)
            case .host(let path):
                guard FileManager.default.fileExists(atPath: path) else { throw RuntimeError("mount \(path): no such file or directory") }
                spec.bind(path, to: m.target, writable: !m.readOnly)
            case .secret(let path):
                // Copied, so the container's user can own it without touching the operator's file.
                let secrets = dir + "/secrets"
                if mkdir(secrets, 0o700) != 0 && errno != EEXIST { throw RuntimeError("cannot create \(secrets)") }
                let name = (m.target as NSString).lastPathComponent
                let copy = secrets + "/" + name
                guard let bytes = FileManager.default.contents(atPath: path) else {
                    throw RuntimeError("secret \(name): cannot read \(path)")
                }
                unlink(copy)
                guard FileManager.default.createFile(atPath: copy, contents: bytes, attributes: [.posixPermissions: 0o400]),
                      chown(copy, process.uid, process.gid) == 0 else {
                    throw RuntimeError("secret \(name): cannot write it for the container")
                }
                spec.bind(copy, to: m.target)
            }
        }
        try spec.write(to: dir + "/bundle")
    }

    /// Runs attached: the container's stdout/stderr are this process's.
    /// Returns the exit status (128+N when killed by signal N).
    public func runAttached() throws(RuntimeError) -> Int32 {
        let p = Foundation.Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [runc.binary, "--root", runc.stateRoot, "run", "--bundle", dir + "/bundle", id]
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw RuntimeError("cannot start \(runc.binary): \(error)") }
        p.waitUntilExit()
        return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    }

    /// Sends `signal` to the container's init process.
    public func kill(_ signal: ContainerSignal = .term) {
        runc.kill(id, signal: signal)
    }

    /// Unmounts the root file system (the upper dir stays until `remove()`).
    public func unmount() {
        overlay?.unmount()
        overlay = nil
    }

    deinit {
        for fd in volumeHolds { close(fd) }
    }

    /// Unmounts and deletes the container's directory (its volumes stay).
    public func remove() {
        unmount()
        for fd in volumeHolds { close(fd) }
        volumeHolds = []
        Self.deleteDirectory(dir)
    }

    /// Removes a container's files when no `Container` value holds them (one
    /// an earlier serve made): its root file system unmounted, its directory deleted.
    public static func removeFiles(_ dir: String) {
        if Leftovers.isMountPoint(dir + "/rootfs") {
            if umount2(dir + "/rootfs", 0) != 0 { _ = umount2(dir + "/rootfs", Int32(MNT_DETACH)) }
        }
        deleteDirectory(dir)
    }

    /// `rm -rf --one-file-system`: a mount still inside `path` is left alone
    /// rather than emptied.
    static func deleteDirectory(_ path: String) {
        let p = Foundation.Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["rm", "-rf", "--one-file-system", path]
        try? p.run()
        p.waitUntilExit()
    }
}

import CBerthSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a serve that died without stopping its containers left behind:
/// containers runc still knows, overlay mounts and container directories.
/// `berth serve` removes those of its own (ids starting `prefix`) before it
/// starts any; one-off `berth run` containers are not touched.
public struct Leftovers {
    public let runc: Runc
    /// The directory holding one directory per container (`STATE/containers`).
    public let containersDir: String
    public let prefix: String

    public init(runc: Runc, containersDir: String, prefix: String) {
        self.runc = runc
        self.containersDir = containersDir
        self.prefix = prefix
    }

    /// Kills and deletes leftover containers, unmounts and removes their
    /// directories (logs live elsewhere and stay); returns the ids it cleaned.
    /// Those in `keeping` (still running under their keepers) are left alone.
    @discardableResult
    public func clean(keeping: Set<String> = []) -> [String] {
        var ids = Set(runc.list().filter { $0.hasPrefix(prefix) })
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: containersDir)) ?? []
        for e in entries where e.hasPrefix(prefix) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: containersDir + "/" + e, isDirectory: &isDirectory), isDirectory.boolValue {
                ids.insert(e)
            }
        }
        ids.subtract(keeping)
        for id in ids.sorted() {
            // A keeper still alive for it (one that was stopping) goes first.
            if let pid = SupervisedContainer.readPID(containersDir + "/" + id + "/keeper.pid"), pid > 1,
               let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), cmd.contains("\0shim\0") {
                Glibc.kill(pid, SIGKILL)
            }
            runc.forceDelete(id)
            let dir = containersDir + "/" + id
            if Self.isMountPoint(dir + "/rootfs") { _ = umount2(dir + "/rootfs", Int32(MNT_DETACH)) }
            Container.deleteDirectory(dir)
        }
        return ids.sorted()
    }

    /// Whether `path` is listed in /proc/self/mountinfo as a mount point.
    public static func isMountPoint(_ path: String) -> Bool {
        guard let info = readProcFile("/proc/self/mountinfo") else { return false }
        return info.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count > 4 && f[4] == path
        }
    }

    /// The whole of a /proc file: read to EOF (its size says 0, and a long
    /// one comes a page per read; a single read would see part of it).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            out += chunk[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Makes this process the child subreaper of everything it starts: a
    /// container whose runc died is reparented here, not to init.
    public static func becomeSubreaper() -> Bool {
        cberth_become_subreaper() == 0
    }
}

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
    @discardableResult
    public func clean() -> [String] {
        var ids = Set(runc.list().filter { $0.hasPrefix(prefix) })
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: containersDir)) ?? []
        for e in entries where e.hasPrefix(prefix) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: containersDir + "/" + e, isDirectory: &isDirectory), isDirectory.boolValue {
                ids.insert(e)
            }
        }
        for id in ids.sorted() {
            runc.forceDelete(id)
            let dir = containersDir + "/" + id
            if Self.isMountPoint(dir + "/rootfs") { _ = umount2(dir + "/rootfs", Int32(MNT_DETACH)) }
            Container.deleteDirectory(dir)
        }
        return ids.sorted()
    }

    /// Whether `path` is listed in /proc/self/mountinfo as a mount point.
    public static func isMountPoint(_ path: String) -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return info.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count > 4 && f[4] == path
        }
    }

    /// Makes this process the child subreaper of everything it starts: a
    /// container whose runc died is reparented here, not to init.
    public static func becomeSubreaper() -> Bool {
        cberth_become_subreaper() == 0
    }
}

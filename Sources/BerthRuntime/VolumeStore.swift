import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Named volumes under the state dir (`volumes/NAME`): created on first use,
/// seeded from the image's files at the mount point while new and empty (as
/// Docker does), kept through redeploys, crashes and restarts, and removed
/// only by `berth volume rm` — which refuses while a container holds one.
/// A container holds a shared lock on `volumes/NAME.lock` for its life.
public struct VolumeStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Letters and digits first, then letters, digits, `_`, `.` and `-` (Docker's rule).
    public static func isValidName(_ name: String) -> Bool {
        guard let f = name.utf8.first, isAlnum(f) else { return false }
        return name.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    public func path(_ name: String) -> String { root + "/" + name }

    /// The volume's directory, created if missing.
    public func create(_ name: String) throws(RuntimeError) -> String {
        guard Self.isValidName(name) else { throw RuntimeError("invalid volume name '\(name)'") }
        for d in [root, path(name)] where mkdir(d, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError("cannot create \(d): \(String(cString: strerror(errno)))")
        }
        return path(name)
    }

    public func exists(_ name: String) -> Bool {
        var st = stat()
        return Self.isValidName(name) && stat(path(name), &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public func names() throws(RuntimeError) -> [String] {
        guard FileManager.default.fileExists(atPath: root) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasSuffix(".lock") && exists($0) }.sorted()
        } catch {
            throw RuntimeError("cannot list \(root): \(error)")
        }
    }

    /// A shared hold on `name` for a container's life (`close` the fd to let go).
    public func hold(_ name: String) throws(RuntimeError) -> Int32 {
        let fd = open(path(name) + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_SH) == 0 else {
            if fd >= 0 { close(fd) }
            throw RuntimeError("cannot lock volume \(name): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Whether a container holds `name` now.
    public func inUse(_ name: String) throws(RuntimeError) -> Bool {
        let fd = open(path(name) + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RuntimeError("cannot open \(path(name)).lock: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return false }
        guard errno == EWOULDBLOCK else { throw RuntimeError("cannot lock volume \(name): \(String(cString: strerror(errno)))") }
        return true
    }

    /// Copies the image's files at `source` (in a mounted root file system)
    /// into the volume when the volume is empty: Docker's seeding rule. Under
    /// the volume's exclusive lock, so replicas starting at once seed once.
    public func seed(_ name: String, from source: String) throws(RuntimeError) {
        let dir = path(name)
        let fd = open(dir + ".seed.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX) == 0 else {
            if fd >= 0 { close(fd) }
            throw RuntimeError("cannot lock volume \(name) to seed it")
        }
        defer { close(fd) }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: dir) } catch { throw RuntimeError("cannot read volume \(name): \(error)") }
        var st = stat()
        guard entries.isEmpty, stat(source, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return }
        // The directory's own mode and owner too (postgres wants its data dir 0700, owned by postgres).
        guard chmod(dir, st.st_mode & 0o7777) == 0, chown(dir, st.st_uid, st.st_gid) == 0 else {
            throw RuntimeError("cannot set up volume \(name): \(String(cString: strerror(errno)))")
        }
        guard QuietCommand.run(["cp", "-a", "--", source + "/.", dir + "/"]) == 0 else {
            throw RuntimeError("cannot seed volume \(name) from the image's \(source)")
        }
    }

    /// Bytes of the regular files in the volume.
    public func size(_ name: String) -> Int {
        var total = 0
        guard let e = FileManager.default.enumerator(atPath: path(name)) else { return 0 }
        var st = stat()
        for case let rel as String in e where lstat(path(name) + "/" + rel, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
            total += Int(st.st_size)
        }
        return total
    }

    public func remove(_ name: String) throws(RuntimeError) {
        guard exists(name) else { throw RuntimeError("no such volume: \(name)") }
        guard try !inUse(name) else { throw RuntimeError("volume \(name) is in use by a running container") }
        guard QuietCommand.run(["rm", "-rf", "--one-file-system", "--", path(name)]) == 0 else { throw RuntimeError("cannot remove volume \(name)") }
        unlink(path(name) + ".lock")
        unlink(path(name) + ".seed.lock")
    }

    /// A tar of the volume's files (owners, modes and times kept).
    public func export(_ name: String, to tarball: String) throws(RuntimeError) {
        guard exists(name) else { throw RuntimeError("no such volume: \(name)") }
        guard QuietCommand.run(["tar", "--numeric-owner", "-C", path(name), "-cf", tarball, "."]) == 0 else {
            throw RuntimeError("cannot write \(tarball)")
        }
    }

    /// Fills a new (or empty) volume from a tar; refuses to mix into one with files.
    public func importTar(_ name: String, from tarball: String) throws(RuntimeError) {
        guard FileManager.default.isReadableFile(atPath: tarball) else { throw RuntimeError("cannot read \(tarball)") }
        let dir = try create(name)
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: dir) } catch { throw RuntimeError("cannot read volume \(name): \(error)") }
        guard entries.isEmpty else { throw RuntimeError("volume \(name) is not empty: remove it first (berth volume rm \(name))") }
        guard QuietCommand.run(["tar", "--numeric-owner", "-xpf", tarball, "-C", dir]) == 0 else {
            throw RuntimeError("cannot extract \(tarball) into volume \(name)")
        }
    }
}

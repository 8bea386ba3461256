import BerthRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The host side of one RUN step's `--mount`s: cache directories (locked as
/// their `sharing` asks), bind sources (the context, or a stage's or image's
/// files through a throw-away overlay), secrets on a tmpfs of the step's own,
/// tmpfs mounts. `release()` unmounts and unlocks everything; nothing of it
/// is left in the layer.
final class RunMounts {
    private(set) var specMounts: [OCISpec.Mount] = []
    private var overlays: [OverlayMount] = []
    private var lockFDs: [Int32] = []
    private var secretsDir: String?
    /// Mount targets, and the directories above them, that were not in the
    /// root file system, deepest first (removed from the layer when empty).
    private(set) var createdTargets: [String] = []

    /// `resolveLayers(from)`: the layer directories (top first) of a stage or image.
    init(_ flags: RunFlags, work: String, rootfs: String, context: String, cacheRoot: String,
         secrets: [String: BuildSecret], resolveLayers: (String) throws(BuildError) -> [String]) throws(BuildError) {
        do throws(BuildError) {
            for (i, m) in flags.mounts.enumerated() {
                let missing = Self.missingPaths(m.target, in: rootfs)
                switch m {
                case let .cache(target, id, sharing, mode, uid, gid):
                    let dir = try cacheDirectory(cacheRoot, id: id, sharing: sharing, mode: mode, uid: uid, gid: gid)
                    specMounts.append(.init(destination: target, type: "bind", source: dir, options: ["rbind", "rw"]))
                case let .bind(target, source, from, rw):
                    let src = try bindSource(source, from: from, rw: rw, work: work + "/bind-\(i)", context: context, resolveLayers: resolveLayers)
                    specMounts.append(.init(destination: target, type: "bind", source: src, options: ["rbind", rw ? "rw" : "ro"]))
                case let .secret(id, target, required, mode, uid, gid):
                    guard let secret = secrets[id] else {
                        if required { throw BuildError("RUN --mount=type=secret,id=\(id): required, but berth build was given no --secret id=\(id)") }
                        continue
                    }
                    let file = try secretFile(id: id, secret: secret, work: work, mode: mode, uid: uid, gid: gid)
                    specMounts.append(.init(destination: target, type: "bind", source: file, options: ["rbind", "ro"]))
                case let .tmpfs(target, size):
                    specMounts.append(.init(destination: target, type: "tmpfs", source: "tmpfs",
                                            options: ["nosuid", "nodev", "mode=1777"] + (size.map { ["size=\($0)"] } ?? [])))
                }
                createdTargets += missing
            }
        } catch {
            release()
            throw error
        }
    }

    /// A file name for `id` that no id can turn into a path.
    private static func digestName(_ id: String) -> String {
        let h = SHA256()
        h.update(id)
        return String(h.finish().prefix(32))
    }

    /// `dir`, made if missing.
    private static func makeDirectory(_ dir: String, mode: mode_t = 0o700) throws(BuildError) {
        if mkdir(dir, mode) != 0 && errno != EEXIST { throw BuildError("cannot create \(dir): \(String(cString: strerror(errno)))") }
    }

    /// `/a/b/c` → the ones of `/a/b/c`, `/a/b`, `/a` missing under `rootfs`, deepest first.
    static func missingPaths(_ target: String, in rootfs: String) -> [String] {
        var out: [String] = []
        var path = ""
        for part in target.split(separator: "/") {
            path += "/" + part
            if access(rootfs + path, F_OK) != 0 { out.append(path) }
        }
        return out.reversed()
    }

    func release() {
        for o in overlays { o.unmount() }
        overlays = []
        if let secretsDir {
            if umount2(secretsDir, 0) != 0 { _ = umount2(secretsDir, Int32(MNT_DETACH)) }
            self.secretsDir = nil
        }
        for fd in lockFDs { close(fd) }
        lockFDs = []
    }

    deinit { release() }

    // MARK: - cache

    /// `cacheRoot/HASH` (created with mode/uid/gid when new). `shared` holds a
    /// shared lock, `locked` waits for the exclusive one, `private` takes the
    /// first instance (`HASH`, `HASH-1`, ...) no other build holds.
    private func cacheDirectory(_ root: String, id: String, sharing: RunFlags.Sharing, mode: UInt32, uid: UInt32, gid: UInt32) throws(BuildError) -> String {
        try Self.makeDirectory(root)
        let base = root + "/" + Self.digestName(id)
        var instance = 0
        while true {
            let dir = instance == 0 ? base : "\(base)-\(instance)"
            let fd = open(dir + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw BuildError("cannot open \(dir).lock: \(String(cString: strerror(errno)))") }
            let op: Int32
            switch sharing {
            case .shared: op = LOCK_SH
            case .locked: op = LOCK_EX
            case .private: op = LOCK_EX | LOCK_NB
            }
            if flock(fd, op) != 0 {
                close(fd)
                guard sharing == .private, errno == EWOULDBLOCK else { throw BuildError("cannot lock \(dir): \(String(cString: strerror(errno)))") }
                instance += 1
                continue
            }
            lockFDs.append(fd)
            if mkdir(dir, mode_t(mode)) == 0 {
                guard chmod(dir, mode_t(mode)) == 0, chown(dir, uid, gid) == 0 else {
                    throw BuildError("cannot set up the cache \(dir): \(String(cString: strerror(errno)))")
                }
            } else if errno != EEXIST {
                throw BuildError("cannot create \(dir): \(String(cString: strerror(errno)))")
            }
            return dir
        }
    }

    // MARK: - bind

    private func bindSource(_ source: String, from: String?, rw: Bool, work: String, context: String,
                            resolveLayers: (String) throws(BuildError) -> [String]) throws(BuildError) -> String {
        let rel = "/" + DockerIgnore.clean(source)
        var root = context
        if let from {
            // The stage's or image's files, through an overlay nothing keeps.
            let layers = try resolveLayers(from)
            try Self.makeDirectory(work)
            try Self.makeDirectory(work + "/empty", mode: 0o755)
            do {
                let view = try OverlayMount(lowers: layers + [work + "/empty"], upper: work + "/upper", work: work + "/ovl", target: work + "/root")
                overlays.append(view)
            } catch {
                throw BuildError("RUN --mount=type=bind,from=\(from): \(error)")
            }
            root = work + "/root"
        }
        let path = rel == "/" || rel == "/." ? root : root + rel
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw BuildError("RUN --mount=type=bind: \(source): no such file or directory in \(from ?? "the build context")")
        }
        // `..` or a symbolic link must not lead out of the context (or the stage).
        guard HostPath.leadsInside(path, root: root) else {
            throw BuildError("RUN --mount=type=bind: \(source) is outside \(from ?? "the build context")")
        }
        guard rw else { return path }
        // rw: writes go to a copy the step throws away.
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if from != nil { return path }  // already an overlay with its own upper dir
            try Self.makeDirectory(work)
            do {
                let view = try OverlayMount(lowers: [path], upper: work + "/upper", work: work + "/ovl", target: work + "/root")
                overlays.append(view)
            } catch {
                throw BuildError("RUN --mount=type=bind,rw: \(error)")
            }
            return work + "/root"
        }
        try Self.makeDirectory(work)
        let copy = work + "/file"
        do { try FileManager.default.copyItem(atPath: path, toPath: copy) } catch { throw BuildError("RUN --mount=type=bind,rw: \(error)") }
        return copy
    }

    // MARK: - secret

    /// The secret in a file on a tmpfs mounted for this step only (never on disk).
    private func secretFile(id: String, secret: BuildSecret, work: String, mode: UInt32, uid: UInt32, gid: UInt32) throws(BuildError) -> String {
        if secretsDir == nil {
            let dir = work + "/secrets"
            guard mkdir(dir, 0o700) == 0 || errno == EEXIST, mount("tmpfs", dir, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0700,size=4m") == 0 else {
                throw BuildError("cannot mount a tmpfs for build secrets: \(String(cString: strerror(errno)))")
            }
            secretsDir = dir
        }
        let bytes = try secret.read(id: id)
        let file = secretsDir! + "/" + Self.digestName(id)
        guard FileManager.default.createFile(atPath: file, contents: bytes), chmod(file, mode_t(mode)) == 0, chown(file, uid, gid) == 0 else {
            throw BuildError("cannot write the secret \(id) for the step")
        }
        return file
    }
}

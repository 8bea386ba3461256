#if canImport(Glibc)
import Glibc
#endif

/// An overlayfs mount: read-only layers (top first) under a writable upper
/// dir. Unmounted by `unmount()`; the upper dir is what the container changed.
public final class OverlayMount {
    public let target: String
    public let upper: String
    private var mounted = false

    /// `lowers` is top-most first; at least one directory is needed (an empty
    /// one stands in for `scratch`).
    public init(lowers: [String], upper: String, work: String, target: String) throws(RuntimeError) {
        self.target = target
        self.upper = upper
        for d in [upper, work, target] where mkdir(d, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError("cannot create \(d): \(String(cString: strerror(errno)))")
        }
        let options = "lowerdir=\(lowers.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
        guard options.utf8.count < 4000 else {
            throw RuntimeError("too many layers for one overlay mount (\(lowers.count))")
        }
        if mount("overlay", target, "overlay", 0, options) != 0 {
            throw RuntimeError("mount overlay on \(target): \(String(cString: strerror(errno)))")
        }
        mounted = true
    }

    public func unmount() {
        guard mounted else { return }
        mounted = false
        if umount2(target, 0) != 0 { _ = umount2(target, Int32(MNT_DETACH)) }
    }

    deinit { unmount() }
}

/// A runtime operation that failed, in words.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

#if canImport(Glibc)
import Glibc
#endif

/// Paths as the host resolves them: where a path really leads (symbolic
/// links and `..` followed), and whether that stays inside a root. Used
/// before mounting or copying anything a build or an image names.
public enum HostPath {
    /// The resolved path, or nil when it does not exist.
    public static func real(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Whether `path` exists and resolves to `root` or below it.
    public static func leadsInside(_ path: String, root: String) -> Bool {
        guard let resolved = real(path), let resolvedRoot = real(root) else { return false }
        return resolved == resolvedRoot || resolved.hasPrefix(resolvedRoot + "/")
    }
}

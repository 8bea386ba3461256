import CBerthSystem

#if canImport(Glibc)
import Glibc
#endif

/// Starting a process that belongs to nobody here: forked twice into a
/// session of its own, so it outlives this one (a keeper, or the new serve
/// of an upgrade) and is never this process's zombie.
public enum DetachedProcess {
    /// Runs `path` with `args` (args[0] included); `pass` (when >= 0) becomes
    /// its fd 3. False (errno set) when it could not be forked; a failed exec
    /// shows only as the process going away at once.
    public static func spawn(_ path: String, _ args: [String], stdin: Int32, stdout: Int32, stderr: Int32, pass: Int32 = -1) -> Bool {
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        defer { for a in cArgs { free(a) } }
        return cArgs.withUnsafeMutableBufferPointer { argv in
            cberth_spawn_detached(path, argv.baseAddress, stdin, stdout, stderr, pass) == 0
        }
    }
}

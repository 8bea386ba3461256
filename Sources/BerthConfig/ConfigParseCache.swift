#if canImport(Glibc)
import Glibc
#endif

/// What the last good parse of proxy.conf built from each app block, with
/// the block's exact bytes and line, so a reload lexes and builds only the
/// apps whose text changed: with thousands of apps, re-reading every block
/// was most of a reload. Blocks are matched by their order among the app
/// blocks (the n-th against the n-th, one comparison of bytes): an edit that
/// keeps the line count reuses every other app; one that moves the lines
/// after it rebuilds those. An app whose meaning depends on other files
/// (`mount`, `secret`, `env-file`: they are checked or read at parse time)
/// is never reused, so a reload still sees those files as they are now.
public struct ConfigParseCache: Sendable {
    /// The file the entries came from (relative paths in apps depend on it).
    var file: String?
    /// The apps of the last good parse (shared with its `Config`, not copied).
    var apps: [AppConfig] = []
    /// Each app's block, where it may be reused (by index in `apps`).
    var blocks: [AppBlockKey?] = []

    public init() {}

    /// How many app blocks the last parse reused (for tests and the reload log).
    public internal(set) var reused = 0

    /// An app block as written: its bytes from the start of its first line
    /// (so its column is part of the key) to its closing brace, and that line.
    struct AppBlockKey: Equatable, Sendable {
        var bytes: ArraySlice<UInt8>
        var line: Int

        static func == (a: AppBlockKey, b: AppBlockKey) -> Bool {
            guard a.line == b.line, a.bytes.count == b.bytes.count else { return false }
            return a.bytes.withUnsafeBytes { x in
                b.bytes.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
            }
        }
    }

    static func reusable(_ app: AppConfig) -> Bool {
        app.mounts.isEmpty && app.secrets.isEmpty && app.envFile == nil
    }
}

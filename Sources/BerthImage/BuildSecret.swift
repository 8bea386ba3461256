import Foundation

/// A secret `berth build --secret` makes available to RUN
/// `--mount=type=secret`: read when a step mounts it, never stored, logged
/// or part of a cache key.
public enum BuildSecret: Sendable, Equatable {
    case file(String)
    case env(String)

    /// `id=X,src=FILE`, `id=X,env=VAR`, `id=X` (the variable X, as buildx
    /// does); `type=file|env` and `source=` are accepted too.
    public static func parse(_ text: String) throws(BuildError) -> (id: String, secret: BuildSecret) {
        var opts: [String: String] = [:]
        for field in text.split(separator: ",") {
            let kv = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw BuildError("--secret \(text): expected id=NAME,src=FILE or id=NAME,env=VAR") }
            opts[kv[0].lowercased()] = kv[1]
        }
        guard let id = opts.removeValue(forKey: "id") else { throw BuildError("--secret \(text): needs id=NAME") }
        let type = opts.removeValue(forKey: "type")
        let src = opts.removeValue(forKey: "src") ?? opts.removeValue(forKey: "source")
        let env = opts.removeValue(forKey: "env")
        if let extra = opts.keys.sorted().first { throw BuildError("--secret \(text): unknown option '\(extra)'") }
        switch (type, src, env) {
        case (nil, let s?, nil), ("file", let s?, nil): return (id, .file(s))
        case (nil, nil, let e?), ("env", nil, let e?), ("env", let e?, nil): return (id, .env(e))
        case (nil, nil, nil), ("env", nil, nil): return (id, .env(id))
        default: throw BuildError("--secret \(text): expected id=NAME,src=FILE or id=NAME,env=VAR")
        }
    }

    func read(id: String) throws(BuildError) -> Data {
        switch self {
        case .file(let path):
            guard let d = FileManager.default.contents(atPath: path) else {
                throw BuildError("secret \(id): cannot read \(path): \(String(cString: strerror(errno)))")
            }
            return d
        case .env(let name):
            guard let v = ProcessInfo.processInfo.environment[name] else {
                throw BuildError("secret \(id): the environment variable \(name) is not set")
            }
            return Data(v.utf8)
        }
    }
}

/// RUN's BuildKit flags, parsed: `--mount=type=cache|bind|secret|tmpfs,...`
/// (repeatable) and `--network=default|none|host`, with BuildKit's option
/// names. Errors name the Dockerfile line.
struct RunFlags: Equatable {
    enum Network: String, Equatable {
        /// berth's default: the host's network (as `docker build` on the default bridge reaches out).
        case `default`
        /// A network namespace of its own with only loopback: no network at all.
        case none
        case host
    }

    enum Sharing: String, Equatable { case shared, `private`, locked }

    enum Mount: Equatable {
        case cache(target: String, id: String, sharing: Sharing, mode: UInt32, uid: UInt32, gid: UInt32)
        /// `source` inside the build context, or inside `from` (a stage or an image).
        case bind(target: String, source: String, from: String?, readWrite: Bool)
        case secret(id: String, target: String, required: Bool, mode: UInt32, uid: UInt32, gid: UInt32)
        case tmpfs(target: String, size: Int?)

        var target: String {
            switch self {
            case .cache(let t, _, _, _, _, _), .bind(let t, _, _, _), .secret(_, let t, _, _, _, _), .tmpfs(let t, _): return t
            }
        }

        /// What the step's cache key records: the specification, never a
        /// cache's or a secret's contents.
        var keyText: String {
            switch self {
            case let .cache(t, id, sharing, mode, uid, gid): return "cache,\(t),\(id),\(sharing.rawValue),\(mode),\(uid),\(gid)"
            case let .bind(t, s, from, rw): return "bind,\(t),\(s),\(from ?? ""),\(rw)"
            case let .secret(id, t, req, mode, uid, gid): return "secret,\(id),\(t),\(req),\(mode),\(uid),\(gid)"
            case let .tmpfs(t, size): return "tmpfs,\(t),\(size.map(String.init) ?? "")"
            }
        }
    }

    var mounts: [Mount] = []
    var network: Network = .default

    var keyParts: [String] { mounts.map(\.keyText) + ["network=\(network.rawValue)"] }

    /// `where`: `Dockerfile:LINE` for errors.
    static func parse(_ flags: [String], workdir: String, where at: String) throws(BuildError) -> RunFlags {
        var out = RunFlags()
        for f in flags {
            if f.hasPrefix("--mount=") {
                out.mounts.append(try mount(String(f.dropFirst(8)), workdir: workdir, where: at))
            } else if f.hasPrefix("--network=") {
                guard let n = Network(rawValue: String(f.dropFirst(10))) else {
                    throw BuildError("\(at): RUN \(f): expected --network=default, none or host")
                }
                out.network = n
            } else {
                throw BuildError("\(at): RUN \(f) is not supported (berth knows --mount=... and --network=...)")
            }
        }
        var cacheIDs = Set<String>()
        for case let .cache(_, id, _, _, _, _) in out.mounts where !cacheIDs.insert(id).inserted {
            throw BuildError("\(at): RUN: two cache mounts with id \(id)")
        }
        let targets = out.mounts.map(\.target)
        if let dup = targets.first(where: { t in targets.filter { $0 == t }.count > 1 }) {
            throw BuildError("\(at): RUN: two mounts on \(dup)")
        }
        return out
    }

    private static func mount(_ spec: String, workdir: String, where at: String) throws(BuildError) -> Mount {
        var opts: [String: String] = [:]
        var order: [String] = []
        for field in spec.split(separator: ",", omittingEmptySubsequences: true) {
            let kv = field.split(separator: "=", maxSplits: 1).map(String.init)
            let key = kv[0].lowercased()
            guard opts[key] == nil else { throw BuildError("\(at): RUN --mount: '\(key)' given twice") }
            opts[key] = kv.count == 2 ? kv[1] : ""
            order.append(key)
        }
        let type = opts.removeValue(forKey: "type") ?? "bind"
        func take(_ names: String...) -> String? {
            for n in names { if let v = opts.removeValue(forKey: n) { return v } }
            return nil
        }
        func flag(_ names: String...) throws(BuildError) -> Bool? {
            for n in names {
                guard let v = opts.removeValue(forKey: n) else { continue }
                switch v.lowercased() {
                case "", "true": return true
                case "false": return false
                default: throw BuildError("\(at): RUN --mount: \(n)=\(v): expected true or false")
                }
            }
            return nil
        }
        func number(_ name: String, radix: Int = 10) throws(BuildError) -> UInt32? {
            guard let v = opts.removeValue(forKey: name) else { return nil }
            guard let n = UInt32(v, radix: radix) else { throw BuildError("\(at): RUN --mount: \(name)=\(v) is not a number") }
            return n
        }
        func absolute(_ path: String) -> String { Builder.resolve(path, against: workdir) }
        let target = take("target", "dst", "destination").map(absolute)
        let mount: Mount
        switch type {
        case "cache":
            guard let target else { throw BuildError("\(at): RUN --mount=type=cache needs target=PATH") }
            let sharingText = take("sharing") ?? "shared"
            guard let sharing = Sharing(rawValue: sharingText) else {
                throw BuildError("\(at): RUN --mount: sharing=\(sharingText): expected shared, private or locked")
            }
            let id = take("id") ?? target
            let mode = try number("mode", radix: 8) ?? 0o755
            mount = .cache(target: target, id: id, sharing: sharing, mode: mode, uid: try number("uid") ?? 0, gid: try number("gid") ?? 0)
            if let ro = try flag("ro", "readonly"), ro { throw BuildError("\(at): RUN --mount=type=cache: read-only cache mounts are not supported") }
        case "bind":
            let source = take("source", "src") ?? "/"
            let from = take("from")
            let rw = try flag("rw", "readwrite") ?? false
            if let ro = try flag("ro", "readonly"), ro && rw { throw BuildError("\(at): RUN --mount=type=bind: both rw and ro") }
            mount = .bind(target: target ?? absolute(source), source: source, from: from, readWrite: rw)
        case "secret":
            let id = take("id") ?? target.map { String($0.split(separator: "/").last ?? "") }
            guard let id, !id.isEmpty else { throw BuildError("\(at): RUN --mount=type=secret needs id=NAME") }
            let mode = try number("mode", radix: 8) ?? 0o400
            mount = .secret(id: id, target: target ?? "/run/secrets/\(id)", required: try flag("required") ?? false,
                            mode: mode, uid: try number("uid") ?? 0, gid: try number("gid") ?? 0)
        case "tmpfs":
            guard let target else { throw BuildError("\(at): RUN --mount=type=tmpfs needs target=PATH") }
            var size: Int?
            if let s = take("size") {
                guard let n = Self.size(s) else { throw BuildError("\(at): RUN --mount: size=\(s): expected bytes, like 64m") }
                size = n
            }
            mount = .tmpfs(target: target, size: size)
        case "ssh":
            throw BuildError("\(at): RUN --mount=type=ssh is not supported")
        default:
            throw BuildError("\(at): RUN --mount: type=\(type): expected cache, bind, secret or tmpfs")
        }
        if let unknown = order.first(where: { opts[$0] != nil }) {
            throw BuildError("\(at): RUN --mount=type=\(type): unknown option '\(unknown)'")
        }
        return mount
    }

    /// `512`, `64k`, `64m`, `1g` (as BuildKit's go-units RAMInBytes: binary units).
    static func size(_ s: String) -> Int? {
        let lower = s.lowercased()
        let units: [(String, Int)] = [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30),
                                      ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        for (suffix, mult) in units where lower.hasSuffix(suffix) {
            guard let n = Int(lower.dropLast(suffix.count)), n >= 0 else { return nil }
            let (bytes, overflow) = n.multipliedReportingOverflow(by: mult)
            return overflow ? nil : bytes
        }
        guard let n = Int(lower), n >= 0 else { return nil }
        return n
    }
}

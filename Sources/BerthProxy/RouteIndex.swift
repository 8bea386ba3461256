import BerthHTTP

/// Finds a request's route in time independent of the number of apps: a
/// route's path prefix is found by hashing the request path's prefixes at
/// each segment boundary (at most one lookup per segment), and host routes
/// by hashing the Host header's name. The rule is the linear one it
/// replaces: the longest path prefix on a segment boundary wins, and among
/// equal paths a host-specific route beats an any-host one.
struct RouteIndex {
    /// Routes by path, for one host (or for any host).
    struct PathTable {
        /// The route at `/`, if any.
        var root: Route?
        /// Routes by the hash of their path prefix (collisions kept in order).
        var byPrefix: [UInt64: [Route]] = [:]
        /// The longest route path in the table, in bytes (no lookup past it).
        var longest = 0

        mutating func add(_ r: Route) {
            if r.path.isEmpty {
                if root == nil { root = r }
                return
            }
            byPrefix[r.pathHash, default: []].append(r)
            longest = max(longest, r.path.count)
        }

        /// The longest route whose path is a segment-boundary prefix of `path`.
        @inline(__always)
        func match(_ path: UnsafeRawBufferPointer) -> Route? {
            var best = root
            guard !byPrefix.isEmpty else { return best }
            var h = RouteIndex.offset
            let end = min(path.count, longest)
            var i = 0
            while i < end {
                let c = path[i]
                h = (h ^ UInt64(c)) &* RouteIndex.prime
                i += 1
                // A boundary: the end of the path, or a '/' after this byte.
                if i == path.count || path[i] == UInt8(ascii: "/") {
                    if let candidates = byPrefix[h] {
                        // Length and boundary are known here: only the bytes are left to compare.
                        for r in candidates where r.path.count == i
                            && r.path.withUnsafeBytes({ memcmpEqual($0, UnsafeRawBufferPointer(rebasing: path[0..<i])) }) {
                            best = r
                            break
                        }
                    }
                }
            }
            return best
        }
    }

    private var anyHost = PathTable()
    /// Host routes by the hash of their (lower-case) host name.
    private var byHost: [UInt64: [(host: [UInt8], table: PathTable)]] = [:]

    init(_ routes: [Route]) {
        for r in routes {
            guard let host = r.host else {
                anyHost.add(r)
                continue
            }
            let h = host.withUnsafeBytes { Self.hash($0) }
            var list = byHost[h] ?? []
            if let i = list.firstIndex(where: { $0.host == host }) {
                list[i].table.add(r)
            } else {
                var t = PathTable()
                t.add(r)
                list.append((host, t))
            }
            byHost[h] = list
        }
    }

    /// The route for `path` on `host` (the Host header's value: case and any
    /// `:port` ignored), or nil for a 404.
    @inline(__always)
    func match(host: UnsafeRawBufferPointer?, path: UnsafeRawBufferPointer) -> Route? {
        let general = anyHost.match(path)
        guard !byHost.isEmpty, let host, let specific = hostTable(host)?.match(path) else { return general }
        guard let general else { return specific }
        return specific.path.count >= general.path.count ? specific : general
    }

    private func hostTable(_ got: UnsafeRawBufferPointer) -> PathTable? {
        let end = Route.hostEnd(got)
        var h = Self.offset
        for i in 0..<end { h = (h ^ UInt64(ByteClass.lower(got[i]))) &* Self.prime }
        guard let list = byHost[h] else { return nil }
        for (name, table) in list where Route.hostMatches(name, got, end: end) { return table }
        return nil
    }

    // FNV-1a, 64-bit: cheap per byte, and computed incrementally along a path.
    static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    static func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        var h = offset
        for c in b { h = (h ^ UInt64(c)) &* prime }
        return h
    }
}

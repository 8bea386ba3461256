import BerthConfig

#if canImport(Glibc)
import Glibc
#endif

/// Listening sockets passed from a running serve to the one replacing it
/// (`berth upgrade`, over SCM_RIGHTS): one group per listen line, each
/// group one socket per worker of the SO_REUSEPORT set, findable by the line
/// as written (`127.0.0.1:0`) or by its resolved address. A socket taken by
/// the new server is its own; the rest are closed.
public struct HandedOverSockets: Sendable {
    /// Socket groups, each once.
    public private(set) var groups: [[Int32]] = []
    /// Listen line as written, and resolved address → index in `groups`.
    public private(set) var names: [String: Int] = [:]
    public var admin: Int32?

    public init() {}

    public mutating func add(written: String, resolved: String, fds: [Int32]) {
        guard !fds.isEmpty else { return }
        if let i = names[resolved] ?? names[written] {
            names[written] = i
            return
        }
        groups.append(fds)
        names[written] = groups.count - 1
        names[resolved] = groups.count - 1
    }

    /// The sockets of the listen line `address`, once (nil when none came for it).
    mutating func take(_ address: HostPort) -> [Int32]? {
        guard let i = names[address.description], !groups[i].isEmpty else { return nil }
        defer { groups[i] = [] }
        return groups[i]
    }

    mutating func takeAdmin() -> Int32? {
        defer { admin = nil }
        return admin
    }

    /// Closes what no listen line took.
    mutating func closeAll() {
        for g in groups { g.forEach { _ = close($0) } }
        groups = groups.map { _ in [] }
        if let a = admin { close(a) }
        admin = nil
    }

    /// Every descriptor in order (groups, then admin), and a description of
    /// them to send beside: `names` and group sizes.
    public var all: [Int32] { groups.flatMap { $0 } + (admin.map { [$0] } ?? []) }

    /// Rebuilds the sockets from `layout` (group sizes, names, admin) and the descriptors received in order.
    public init(layout: Layout, fds: [Int32]) {
        var at = 0
        for n in layout.sizes {
            groups.append(Array(fds[min(at, fds.count)..<min(at + n, fds.count)]))
            at += n
        }
        names = layout.names
        admin = layout.admin && at < fds.count ? fds[at] : nil
    }

    public var layout: Layout { Layout(sizes: groups.map(\.count), names: names, admin: admin != nil) }

    /// What is sent beside the descriptors, as JSON.
    public struct Layout: Codable, Sendable {
        public var sizes: [Int]
        public var names: [String: Int]
        public var admin: Bool
    }
}

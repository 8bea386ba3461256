#if canImport(Glibc)
import Glibc
#endif
import BerthConfig

/// The immutable routing snapshot workers read at the start of each request:
/// routes ordered longest path first, each naming its upstream servers by index
/// into `servers`. A reload builds a new table; nothing here changes per request.
public final class RouteTable: Sendable {
    public let routes: [Route]
    public let servers: [UpstreamServer]

    public init(config: Config) throws {
        var servers: [UpstreamServer] = []
        var index: [String: Int] = [:]
        var routes: [Route] = []
        for app in config.apps {
            var ids: [Int] = []
            for hp in app.upstreams {
                let key = hp.description
                if let i = index[key] {
                    ids.append(i)
                } else {
                    let address: SocketAddress
                    do {
                        address = try SocketAddress(hp)
                    } catch {
                        throw ProxyError("app \(app.name) at \(app.location): \(error)")
                    }
                    index[key] = servers.count
                    ids.append(servers.count)
                    servers.append(UpstreamServer(id: servers.count, name: key, address: address))
                }
            }
            routes.append(Route(app: app, serverIDs: ids))
        }
        // Longest path first; among equal paths, host-specific before any-host.
        routes.sort { a, b in
            a.path.count != b.path.count ? a.path.count > b.path.count : (a.host != nil && b.host == nil)
        }
        self.routes = routes
        self.servers = servers
    }

    /// The route for `path` (raw target path bytes) on `host` (Host header
    /// value, port ignored, case-insensitive) as an index into `routes`, or nil for a 404.
    func match(host: UnsafeRawBufferPointer?, path: UnsafeRawBufferPointer) -> Int? {
        for (i, r) in routes.enumerated() where r.matches(path: path) {
            if let h = r.host {
                guard let host, Route.hostMatches(h, host) else { continue }
            }
            return i
        }
        return nil
    }
}

/// One app's route: its match (host, path prefix) and where it sends requests.
/// An app with no servers yet (its containers are not running) answers 503.
public struct Route: Sendable {
    public let name: String
    let nameBytes: [UInt8]
    /// Path prefix bytes; "/" is stored empty so every path matches it.
    let path: [UInt8]
    let host: [UInt8]?
    let stripPrefix: Bool
    let serverIDs: [Int]
    let balance: AppConfig.Balance

    init(app: AppConfig, serverIDs: [Int]) {
        name = app.name
        nameBytes = Array(app.name.utf8)
        path = app.path == "/" ? [] : Array(app.path.utf8)
        host = app.host.map { Array($0.utf8) }
        stripPrefix = app.stripPrefix && app.path != "/"
        self.serverIDs = serverIDs
        balance = app.balance
    }

    /// Prefix on a segment boundary: `/ruby` matches `/ruby`, `/ruby/`, `/ruby/x`, not `/rubyx`.
    @inline(__always)
    func matches(path p: UnsafeRawBufferPointer) -> Bool {
        let n = path.count
        if n == 0 { return true }
        if p.count < n { return false }
        if p.count > n && p[n] != UInt8(ascii: "/") { return false }
        return path.withUnsafeBytes { memcmpEqual($0, UnsafeRawBufferPointer(rebasing: p[0..<n])) }
    }

    /// Host equality ignoring case and any `:port`.
    static func hostMatches(_ want: [UInt8], _ got: UnsafeRawBufferPointer) -> Bool {
        var end = got.count
        if let colon = got.lastIndex(of: UInt8(ascii: ":")), got.first != UInt8(ascii: "[") || got[colon - 1] == UInt8(ascii: "]") {
            end = colon
        }
        guard end == want.count else { return false }
        for i in 0..<end where want[i] != (got[i] | (got[i] >= 0x41 && got[i] <= 0x5A ? 0x20 : 0)) { return false }
        return true
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// An upstream server address, shared by every route that names it.
public struct UpstreamServer: Sendable {
    public let id: Int
    public let name: String
    let nameBytes: [UInt8]
    let address: SocketAddress

    init(id: Int, name: String, address: SocketAddress) {
        self.id = id
        self.name = name
        self.nameBytes = Array(name.utf8)
        self.address = address
    }
}

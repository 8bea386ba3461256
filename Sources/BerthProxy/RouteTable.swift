#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthHTTP
import BerthRouting
import Synchronization

/// The immutable routing snapshot workers read at the start of each request:
/// routes ordered longest path first. A reload builds a new table and
/// publishes it; exchanges keep the `Route` they began with.
public final class RouteTable: Sendable {
    public let routes: [Route]
    /// Every server some route names (ids are the registry's, stable across reloads).
    public let servers: [UpstreamServer]
    public let generation: Int
    /// The lookup structure `match` uses (constant time in the number of apps).
    let index: RouteIndex
    /// How many routes came from the previous table (tests).
    let reusedRoutes: Int
    /// The live replicas of each app some `link` names, by app name.
    let linkTargets: [String: [UpstreamServer]]

    /// Each app's route at the app's position in the config (nil for a
    /// worker), so the next table can take the routes that did not change.
    let routesByPosition: [Route?]

    /// Builds the table for `input`. With `previous` (the table of the
    /// config before), an app at the same position with the same name whose
    /// position is not in `changed` (ConfigDiff's `appsChangedPositions`)
    /// keeps its `Route` object, and with it its round-robin position, if its
    /// servers and defaults are the same: a reload of a large config builds
    /// only the routes it changed.
    init(_ input: RoutingInput, registry: UpstreamRegistry, generation: Int,
         reusing previous: RouteTable? = nil, changed: Set<Int> = []) throws {
        let config = input.config
        var routes: [Route] = []
        routes.reserveCapacity(config.apps.count)
        var byPosition = [Route?](repeating: nil, count: config.apps.count)
        var servers: [UpstreamServer] = []
        var seen = [Bool](repeating: false, count: registry.servers.count)
        func use(_ s: UpstreamServer) {
            if s.id >= seen.count { seen.append(contentsOf: repeatElement(false, count: s.id + 1 - seen.count)) }
            if !seen[s.id] {
                seen[s.id] = true
                servers.append(s)
            }
        }
        var reused = 0
        // Workers and services are never routed.
        for (position, app) in config.apps.enumerated() where app.isRouted {
            var old: Route?
            if let previous, position < previous.routesByPosition.count, let r = previous.routesByPosition[position],
               r.name == app.name, r.defaultRedirectHTTPS == config.redirectHTTPS, changed.isEmpty || !changed.contains(position) {
                old = r
            }
            // An unchanged upstream app has the same servers (ids are stable per address).
            if let old, !app.runsContainers {
                old.servers.forEach(use)
                routes.append(old)
                byPosition[position] = old
                reused += 1
                continue
            }
            var members: [UpstreamServer] = []
            for hp in app.upstreams {
                let s: UpstreamServer
                do {
                    s = try registry.server(hp)
                } catch {
                    throw ProxyError("\(app.location): app \(app.name): \(error)")
                }
                members.append(s)
                use(s)
            }
            // Container apps: where the control plane placed their replicas.
            // One starting, or ready with no replica routable right now (one
            // restarting), holds a request that finds no server for a while
            // instead of a 503; a failed one answers 503 at once.
            var holds = false
            var previous: [UpstreamServer] = []
            if app.runsContainers {
                let routing = input.routing(of: app.name)
                for p in routing.placements {
                    let s = try registry.server(p)
                    members.append(s)
                    use(s)
                }
                if case .failed = routing {} else { holds = true }
                if app.skewRetry {
                    for p in input.previous[app.name] ?? [] {
                        let s = try registry.server(p)
                        previous.append(s)
                        use(s)
                    }
                }
            }
            let route: Route
            if let old, old.holdsWhileStarting == holds, old.servers.count == members.count,
               zip(old.servers, members).allSatisfy({ $0.id == $1.id }),
               old.previousServers.count == previous.count, zip(old.previousServers, previous).allSatisfy({ $0.id == $1.id }) {
                route = old
                reused += 1
            } else {
                route = Route(app: app, servers: members, appID: registry.appID(app.name), holdsWhileStarting: holds,
                              redirectHTTPS: config.redirectHTTPS, previousServers: previous)
            }
            routes.append(route)
            byPosition[position] = route
        }
        routesByPosition = byPosition
        reusedRoutes = reused
        // Apps some link names (services are not routed): where their replicas are now.
        var targets: [String: [UpstreamServer]] = [:]
        for app in config.apps where !app.links.isEmpty {
            for l in app.links where targets[l.app] == nil {
                targets[l.app] = try input.routing(of: l.app).placements.map { try registry.server($0) }
            }
        }
        linkTargets = targets
        // Longest path first; among equal paths, host-specific before any-host.
        routes.sort { a, b in
            a.path.count != b.path.count ? a.path.count > b.path.count : (a.host != nil && b.host == nil)
        }
        self.routes = routes
        self.servers = servers
        self.generation = generation
        index = RouteIndex(routes)
    }

    /// Builds a table with a registry of its own (tests, one-off tools).
    public convenience init(config: Config) throws {
        try self.init(RoutingInput(config: config, apps: [:]), registry: UpstreamRegistry(logger: .init(label: "berth.test")), generation: 1)
    }

    /// The route for `path` (raw target path bytes) on `host` (Host header
    /// value, port ignored, case-insensitive), or nil for a 404.
    @inline(__always)
    func match(host: UnsafeRawBufferPointer?, path: UnsafeRawBufferPointer) -> Route? {
        index.match(host: host, path: path)
    }

    /// The same by scanning every route in order (the rule, spelled out; tests
    /// compare the index against it).
    func scan(host: UnsafeRawBufferPointer?, path: UnsafeRawBufferPointer) -> Route? {
        for r in routes where r.matches(path: path) {
            if let h = r.host {
                guard let host, Route.hostMatches(h, host) else { continue }
            }
            return r
        }
        return nil
    }
}

/// One app's route: its match (host, path prefix) and where it sends requests.
/// An app with no servers yet (its containers are not running) answers 503.
public final class Route: Sendable {
    public let name: String
    let nameBytes: [UInt8]
    /// Path prefix bytes; "/" is stored empty so every path matches it.
    let path: [UInt8]
    let host: [UInt8]?
    let stripPrefix: Bool
    public let servers: [UpstreamServer]
    /// `skew-retry`: the draining old version's replicas, where a GET the
    /// new version answered 404 is tried once (empty when none drains).
    let previousServers: [UpstreamServer]
    let balance: AppConfig.Balance
    /// `proto h2c`: exchanges are streams on one HTTP/2 connection per server and worker.
    let h2c: Bool
    let health: HealthCheck?
    /// Plain-HTTP requests get a 308 to https (`redirect-https`).
    let redirectHTTPS: Bool
    /// A container app: a request that finds no server waits up to `timeouts { start }`.
    let holdsWhileStarting: Bool
    /// The app's slot in every worker's stats.
    let appID: Int
    /// Where round-robin continues (shared by workers; relaxed is enough).
    let nextServer = Atomic<Int>(0)

    /// The top-level `redirect-https` this route was made under (a route is
    /// reused only under the same one).
    let defaultRedirectHTTPS: Bool
    /// The path prefix's hash as the route index keys it.
    let pathHash: UInt64

    init(app: AppConfig, servers: [UpstreamServer], appID: Int, holdsWhileStarting: Bool = false, redirectHTTPS: Bool = false,
         previousServers: [UpstreamServer] = []) {
        self.previousServers = previousServers
        self.redirectHTTPS = app.redirectHTTPS ?? redirectHTTPS
        defaultRedirectHTTPS = redirectHTTPS
        self.holdsWhileStarting = holdsWhileStarting
        name = app.name
        nameBytes = Array(app.name.utf8)
        path = app.path == "/" ? [] : Array(app.path.utf8)
        pathHash = path.withUnsafeBytes { RouteIndex.hash($0) }
        host = app.host.map { Array($0.utf8) }
        stripPrefix = app.stripPrefix && app.path != "/"
        self.servers = servers
        balance = app.balance
        h2c = app.proto == .h2c
        health = app.health?.command == nil ? app.health : nil  // health exec runs in the host, not the proxy
        self.appID = appID
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
    static func hostMatches(_ want: [UInt8], _ got: UnsafeRawBufferPointer, end: Int? = nil) -> Bool {
        let end = end ?? hostEnd(got)
        guard end == want.count else { return false }
        for i in 0..<end where want[i] != ByteClass.lower(got[i]) { return false }
        return true
    }

    /// Where a Host value's name ends: before any `:port` (an IPv6 literal keeps its colons).
    static func hostEnd(_ got: UnsafeRawBufferPointer) -> Int {
        if let colon = got.lastIndex(of: UInt8(ascii: ":")), got.first != UInt8(ascii: "[") || got[colon - 1] == UInt8(ascii: "]") {
            return colon
        }
        return got.count
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// An upstream server address and its health; one object per address for the
/// life of the process. `netns` is set for a server inside a container's own
/// network namespace (the proxy opens its sockets there).
public final class UpstreamServer: Sendable {
    public let id: Int
    public let name: String
    let nameBytes: [UInt8]
    /// `host:port` as a Host header can carry it (the name may add `@netns`).
    let authority: String
    let authorityBytes: [UInt8]
    let address: SocketAddress
    let netns: NetworkNamespace?
    public let health: ServerHealth

    init(id: Int, name: String, authority: String? = nil, address: SocketAddress, netns: NetworkNamespace? = nil, health: ServerHealth) {
        self.id = id
        self.name = name
        self.authority = authority ?? name
        self.authorityBytes = Array((authority ?? name).utf8)
        self.nameBytes = Array(name.utf8)
        self.address = address
        self.netns = netns
        self.health = health
    }
}

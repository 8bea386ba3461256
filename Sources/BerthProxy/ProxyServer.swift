#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import Dispatch
import Logging
import Synchronization

/// The data plane of `berth serve`: binds every `listen` once per worker
/// (SO_REUSEPORT), runs one libev loop per worker thread, applies reloads by
/// publishing a new route table to every worker, and drains or stops them.
/// Its methods are called from one control thread (the CLI's signal loop).
public final class ProxyServer: @unchecked Sendable {
    /// The config in force (settings that need a restart keep their first value).
    public private(set) var config: Config
    /// The port each `listen` line got, in order (resolves `:0` for tests).
    public private(set) var ports: [Int] = []
    public let workerCount: Int
    public var generation: Int { published.withLock { $0.generation } }
    /// The admin listener's port, when `admin` is configured.
    public var adminPort: Int? { admin?.port }
    private var workers: [Worker] = []
    private var threads: [pthread_t] = []
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger
    private var accessLogFD: Int32?
    private let registry: UpstreamRegistry
    /// Bound listeners by resolved address (`127.0.0.1:8080`, never `:0`) → port.
    private var listenPorts: [String: Int] = [:]
    /// A listen line as written → the resolved address it is bound as.
    private var listenAliases: [String: String] = [:]
    private var checkers: [Int: HealthChecker] = [:]
    private var admin: AdminServer?
    /// Certificates of the TLS listeners, by listen key.
    private var tls: [String: TLSContextSet] = [:]
    /// Where container apps' replicas are (the control plane updates it).
    private var placements: [String: [Placement]]
    /// Reloads and placement updates come from different threads: one at a time.
    private let control = Mutex<Void>(())
    /// What the admin thread may read.
    let published: Mutex<PublishedState>

    struct PublishedState: Sendable {
        var table: RouteTable
        var appNames: [String]
        var generation: Int
        var reloadsApplied = 0
        var reloadsRejected = 0
    }

    public init(config: Config, placements: [String: [Placement]] = [:], logger: Logger = Logger(label: "berth.proxy")) throws {
        self.config = config
        self.logger = logger
        self.placements = placements
        switch config.workers {
        case .auto: workerCount = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        case .count(let n): workerCount = n
        }
        registry = UpstreamRegistry(logger: logger)
        let table = try RouteTable(config: config, registry: registry, generation: 1, placements: placements)
        published = Mutex(PublishedState(table: table, appNames: registry.appNames, generation: 1))
        switch config.accessLog {
        case .off: accessLogFD = nil
        case .stdout: accessLogFD = 1
        case .file(let path):
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 { throw ProxyError("access-log \(path): \(String(cString: strerror(errno)))") }
            accessLogFD = fd
        }
        var perWorker = Array(repeating: [(key: String, fd: Int32)](), count: workerCount)
        for l in config.listens {
            let opened = try openListener(l, closingOnError: perWorker.flatMap { $0.map(\.fd) })
            for w in 0..<workerCount { perWorker[w].append((opened.key, opened.fds[w])) }
        }
        ports = config.listens.map { listenPorts[listenAliases[$0.address.description]!]! }
        do {
            tls = try tlsContexts(config, keys: listenAliases, keeping: [:])
            if let a = config.admin {
                admin = try AdminServer(address: a, server: self)
            }
        } catch {
            perWorker.flatMap { $0.map(\.fd) }.forEach(Socket.close)
            throw error
        }
        let settings = makeSettings(config)
        for w in 0..<workerCount {
            workers.append(Worker(id: w, table: table, settings: settings, listenFDs: perWorker[w],
                                  tls: tls, accessLogFD: accessLogFD, logger: logger))
        }
        updateHealthCheckers(table)
    }

    /// The workers' settings for `config`, with the HTTPS port redirects point to.
    private func makeSettings(_ config: Config) -> ProxySettings {
        var s = ProxySettings(config: config, workers: workerCount)
        if let l = config.listens.first(where: { $0.tls != nil }), let key = listenAliases[l.address.description] {
            s.httpsPort = listenPorts[key]
        }
        return s
    }

    /// Certificates for every TLS listen line of `config`, by listen key.
    /// A listener whose files are unchanged keeps its contexts; one whose new
    /// files fail to load keeps the old ones (logged) when it had some, and
    /// fails the whole config when it is new.
    private func tlsContexts(_ config: Config, keys: [String: String], keeping old: [String: TLSContextSet]) throws -> [String: TLSContextSet] {
        var out: [String: TLSContextSet] = [:]
        for l in config.listens {
            guard let t = l.tls, let key = keys[l.address.description] else { continue }
            let sites: [(host: String, cert: String, key: String)]
            let def: String
            if let cert = t.cert, let k = t.key {
                sites = [("*", cert, k)]
                def = "*"
            } else {
                sites = config.tlsSites.map { ($0.host, $0.cert, $0.key) }
                def = config.tlsDefault ?? config.tlsSites.first?.host ?? ""
            }
            if let previous = old[key], previous.fingerprint == TLSContextSet.fingerprint(sites: sites, defaultHost: def, minVersion: t.minVersion) {
                out[key] = previous  // same files, unchanged since: nothing to read again
                continue
            }
            do {
                out[key] = try TLSContextSet(sites: sites, defaultHost: def, minVersion: t.minVersion)
            } catch {
                guard let previous = old[key] else { throw ProxyError("\(l.location): \(error)") }
                logger.error("TLS certificates not reloaded: keeping the ones in use", metadata: ["listen": "\(key)", "error": "\(error)"])
                out[key] = previous
            }
        }
        return out
    }

    /// Binds `l` once per worker. A probe bind without SO_REUSEPORT first
    /// fails if anyone (even another berth) holds the port, and picks `:0`'s port.
    private func openListener(_ l: ListenConfig, closingOnError others: [Int32]) throws -> (key: String, fds: [Int32]) {
        var fds: [Int32] = []
        let key: String
        do throws(SocketError) {
            var address = try SocketAddress(l.address, passive: true)
            let probe = try Socket.listen(address, reusePort: false, backlog: 1)
            let port = Socket.localPort(probe)
            Socket.close(probe)
            let resolved = HostPort(host: l.address.host, port: port)
            if l.address.port == 0 { address = try SocketAddress(resolved, passive: true) }
            for _ in 0..<workerCount { fds.append(try Socket.listen(address, reusePort: true, backlog: 4096)) }
            key = resolved.description
            listenPorts[key] = port
            listenAliases[l.address.description] = key
        } catch {
            (fds + others).forEach(Socket.close)
            throw ProxyError("\(l.location): \(error.description)")
        }
        return (key, fds)
    }

    /// The bound listener a listen line means, if one is bound: the same line
    /// as before, or an explicit address equal to a bound one (even one that
    /// was `:0` and resolved to it).
    private func boundKey(_ l: ListenConfig) -> String? {
        if let k = listenAliases[l.address.description] { return k }
        if l.address.port != 0, listenPorts[l.address.description] != nil { return l.address.description }
        return nil
    }

    /// Starts one thread per worker, and the admin listener.
    public func start() {
        for w in workers {
            let finished = self.finished
            guard let tid = OSThread.start({
                w.run()
                finished.signal()
            }) else { fatalError("cannot start a worker thread") }
            threads.append(tid)
        }
        admin?.start()
    }

    // MARK: - reload

    /// What a reload changed and the generation it made.
    public struct ReloadOutcome: Sendable {
        public let generation: Int
        public let diff: ConfigDiff
    }

    /// Applies a new config: a new route table for every worker, listeners
    /// opened or closed as the diff says. Throws (changing nothing) when the
    /// new config cannot be served; returns once every worker switched.
    public func apply(_ newConfig: Config, placements: [String: [Placement]]? = nil) throws -> ReloadOutcome {
        try control.withLock { _ throws(any Error) in
            do {
                let outcome = try applyOrThrow(newConfig, placements: placements ?? self.placements)
                published.withLock { $0.reloadsApplied += 1 }
                return outcome
            } catch {
                published.withLock { $0.reloadsRejected += 1 }
                throw error
            }
        }
    }

    /// Routes container apps to where their replicas are now (a replica
    /// started, restarted in a new namespace, or stopped); the config and its
    /// generation stay. Returns once every worker has the new table.
    public func updatePlacements(_ newPlacements: [String: [Placement]]) {
        control.withLock { _ in republish(newPlacements) }
    }

    private func republish(_ newPlacements: [String: [Placement]]) {
        guard newPlacements != placements else { return }
        let table: RouteTable
        do {
            table = try RouteTable(config: config, registry: registry, generation: generation, placements: newPlacements)
        } catch {
            logger.error("placements not applied", metadata: ["error": "\(error)"])
            return
        }
        placements = newPlacements
        let settings = makeSettings(config)
        let group = DispatchGroup()
        for w in workers {
            group.enter()
            w.send(.update(TableUpdate(table: table, settings: settings, addListeners: [], removeListeners: [], tls: tls),
                           done: { group.leave() }))
        }
        _ = group.wait(timeout: .now() + 10)
        published.withLock { $0.table = table }
        updateHealthCheckers(table)
    }

    /// Counts a reload refused before it reached the proxy (an invalid file).
    public func recordRejectedReload() {
        published.withLock { $0.reloadsRejected += 1 }
    }

    private func applyOrThrow(_ newConfig: Config, placements: [String: [Placement]]) throws -> ReloadOutcome {
        let diff = ConfigDiff(from: config, to: newConfig)
        let gen = generation + 1
        let table = try RouteTable(config: newConfig, registry: registry, generation: gen, placements: placements)
        var effective = newConfig
        effective.workers = config.workers
        effective.accessLog = config.accessLog
        effective.admin = config.admin
        effective.stateDir = config.stateDir
        let oldKeys = Set(listenPorts.keys)
        var newKeys = Set<String>()
        var opened: [(key: String, fds: [Int32])] = []
        for l in newConfig.listens {
            if let k = boundKey(l) {
                newKeys.insert(k)
                listenAliases[l.address.description] = k
            } else {
                let o = try openListener(l, closingOnError: opened.flatMap(\.fds))
                opened.append(o)
                newKeys.insert(o.key)
            }
        }
        let removed = Array(oldKeys.subtracting(newKeys))
        let newTLS: [String: TLSContextSet]
        do {
            newTLS = try tlsContexts(newConfig, keys: listenAliases, keeping: tls)
        } catch {
            opened.flatMap(\.fds).forEach(Socket.close)
            for o in opened { listenPorts.removeValue(forKey: o.key) }
            listenAliases = listenAliases.filter { listenPorts[$0.value] != nil }
            throw error
        }
        let settings = makeSettings(effective)
        let group = DispatchGroup()
        for (i, w) in workers.enumerated() {
            group.enter()
            let update = TableUpdate(table: table, settings: settings,
                                     addListeners: opened.map { ($0.key, $0.fds[i]) }, removeListeners: removed, tls: newTLS)
            w.send(.update(update, done: { group.leave() }))
        }
        _ = group.wait(timeout: .now() + 10)
        for key in removed { listenPorts.removeValue(forKey: key) }
        listenAliases = listenAliases.filter { newKeys.contains($0.value) }
        config = effective
        tls = newTLS
        self.placements = placements
        ports = config.listens.map { boundKey($0).flatMap { listenPorts[$0] } ?? 0 }
        published.withLock {
            $0.table = table
            $0.appNames = registry.appNames
            $0.generation = gen
        }
        updateHealthCheckers(table)
        return ReloadOutcome(generation: gen, diff: diff)
    }

    /// One checker per server that some route checks; checks follow reloads.
    private func updateHealthCheckers(_ table: RouteTable) {
        var wanted: [Int: (UpstreamServer, HealthCheck)] = [:]
        for r in table.routes {
            guard let h = r.health else { continue }
            for s in r.servers where wanted[s.id] == nil { wanted[s.id] = (s, h) }
        }
        for (id, c) in checkers where wanted[id] == nil || wanted[id]!.1 != c.check {
            c.stop()
            checkers[id] = nil
        }
        for (id, (s, h)) in wanted where checkers[id] == nil {
            let c = HealthChecker(server: s, check: h)
            checkers[id] = c
            c.start()
        }
    }

    /// Requests in progress on these replicas (all workers): the control
    /// plane waits for 0 before it stops replicas it no longer routes to.
    public func busyExchanges(on replicas: [Placement]) -> Int {
        let ids = Set(control.withLock { _ in replicas.compactMap { registry.existingID($0) } })
        if ids.isEmpty { return 0 }
        let total = Mutex(0)
        let group = DispatchGroup()
        for w in workers {
            group.enter()
            w.send(.countBusy(ids, { n in
                total.withLock { $0 += n }
                group.leave()
            }))
        }
        _ = group.wait(timeout: .now() + 2)
        return total.withLock { $0 }
    }

    // MARK: - metrics

    /// Every worker's counters and gauges, gathered on their own threads.
    func snapshot() -> [WorkerSnapshot] {
        let results = Mutex<[WorkerSnapshot]>([])
        let group = DispatchGroup()
        for w in workers {
            group.enter()
            w.send(.snapshot({ snap in
                results.withLock { $0.append(snap) }
                group.leave()
            }))
        }
        _ = group.wait(timeout: .now() + 2)
        return results.withLock { $0 }
    }

    // MARK: - stopping

    /// Stops accepting, lets in-flight requests finish for up to `timeout`
    /// seconds, then closes what is left. True when everything finished in time.
    public func drain(timeout: Double) -> Bool {
        admin?.stop()
        stopCheckers()
        for w in workers { w.send(.drain) }
        var done = 0
        let deadline = DispatchTime.now() + timeout
        while done < workers.count, finished.wait(timeout: deadline) == .success { done += 1 }
        if done < workers.count {
            for w in workers { w.send(.stop) }
        }
        join()
        return done == workers.count
    }

    /// Stops every worker now (closing listeners and connections) and joins them.
    public func stop() {
        admin?.stop()
        stopCheckers()
        for w in workers { w.send(.stop) }
        join()
    }

    /// Blocks until every worker thread has returned.
    public func wait() { join() }

    private func stopCheckers() {
        for c in checkers.values { c.stop() }
        checkers.removeAll()
    }

    private func join() {
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
        if let fd = accessLogFD, fd > 2 { Glibc.close(fd) }
        accessLogFD = nil
    }
}

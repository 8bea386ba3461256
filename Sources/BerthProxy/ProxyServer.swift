#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthRouting
import BerthThreads
import Dispatch
import Logging
import Synchronization

/// The data plane of `berth serve`: binds every `listen` once per worker
/// (SO_REUSEPORT), runs one libev loop per worker thread, applies reloads by
/// publishing a new route table to every worker (and switching back every
/// worker when one does not acknowledge), tells the control plane when
/// replicas are idle, and drains or stops the workers. Implements
/// `DataPlane`; changes are serialized by one lock.
public final class ProxyServer: DataPlane, @unchecked Sendable {
    /// The config in force (settings that need a restart keep their first value).
    public private(set) var config: Config
    /// The port each `listen` line got, in order (resolves `:0` for tests).
    public private(set) var ports: [Int] = []
    public let workerCount: Int
    public var generation: Int { published.withLock { $0.generation } }
    /// The admin listener's port, when `admin` is configured.
    public var adminPort: Int? { admin?.port }
    private(set) var workers: [Worker] = []
    /// ACME HTTP-01 answers for every worker's plain listeners.
    let acmeChallenges: ACMEChallenges
    /// Certificates the control plane got from the ACME CA, by name (for `tls auto` listeners).
    var acmeCertificates: [String: CertificateFiles] = [:]
    /// Open `link` listeners: which worker serves each id.
    let linkWorkers = Mutex<(nextID: Int, byID: [Int: Int])>((1, [:]))
    private var threads: [pthread_t] = []
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger
    private var accessLogFD: Int32?
    private let registry: UpstreamRegistry
    /// Bound listeners by resolved address (`127.0.0.1:8080`, never `:0`) → port.
    private var listenPorts: [String: Int] = [:]
    /// Every worker's socket of each bound listener, by resolved address (to hand over).
    private var listenFDs: [String: [Int32]] = [:]
    /// Sockets a previous serve handed over, not yet taken by a listen line.
    private var inherited: HandedOverSockets
    /// A listen line as written → the resolved address it is bound as.
    private var listenAliases: [String: String] = [:]
    private var checkers: [Int: HealthChecker] = [:]
    private var admin: AdminServer?
    /// Certificates of the TLS listeners, by listen key.
    private var tls: [String: TLSContextSet] = [:]
    /// Where container apps' replicas are (the control plane updates it).
    private var routing: [String: AppRouting]
    /// Draining old versions of `skew-retry` apps (see `RoutingInput.previous`).
    private var previousRouting: [String: [Placement]] = [:]
    /// How long a switch waits for every worker to acknowledge it.
    public var acknowledgeDeadline = 10.0
    /// Numbers `whenIdle` watches.
    private let idleWatchIDs = Atomic<Int>(0)
    /// Draining or stopped: no more switches (they would wait on loops that ended).
    private let stopping = Atomic<Bool>(false)
    /// Reloads and placement updates come from different threads: one at a time.
    let control = Mutex<Void>(())
    /// What the admin thread may read.
    let published: Mutex<PublishedState>

    struct PublishedState: Sendable {
        var table: RouteTable
        var appNames: [String]
        var generation: Int
        var reloadsApplied = 0
        var reloadsRejected = 0
    }

    /// Binds `input.config`'s listeners (taking those in `inherited` that a
    /// previous serve handed over instead of binding them again); workers
    /// start with `start()`.
    public init(_ input: RoutingInput, inherited: HandedOverSockets = HandedOverSockets(), logger: Logger = Logger(label: "berth.proxy")) throws {
        let config = input.config
        self.config = config
        self.inherited = inherited
        self.logger = logger
        acmeChallenges = ACMEChallenges(logger: logger)
        self.routing = input.apps
        previousRouting = input.previous
        switch config.workers {
        case .auto: workerCount = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        case .count(let n): workerCount = n
        }
        registry = UpstreamRegistry(logger: logger)
        let table = try RouteTable(input, registry: registry, generation: 1)
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
            acmeChallenges.setCurrentSets(tls.values.filter(\.servesACME))
            if let a = config.admin {
                admin = try AdminServer(address: a, server: self, inheritedFD: self.inherited.takeAdmin())
            }
        } catch {
            perWorker.flatMap { $0.map(\.fd) }.forEach(Socket.close)
            self.inherited.closeAll()
            throw error
        }
        // Handed-over sockets no listen line wants any more.
        self.inherited.closeAll()
        let settings = makeSettings(config)
        for w in 0..<workerCount {
            workers.append(Worker(id: w, table: table, settings: settings, listenFDs: perWorker[w],
                                  tls: tls, accessLogFD: accessLogFD, logger: logger))
            workers[w].acmeChallenges = acmeChallenges
        }
        updateHealthCheckers(table)
    }

    /// The workers' settings for `config`, with the HTTPS port redirects point to.
    private func makeSettings(_ config: Config) -> ProxySettings {
        var s = ProxySettings(config: config, workers: workerCount)
        for l in config.listens {
            guard let key = listenAliases[l.address.description] else { continue }
            if l.tls?.h2 == true { s.h2Listeners.insert(key) }
            if l.h2c { s.h2cListeners.insert(key) }
        }
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
            } else if t.auto {
                // Static certificates win for their names; the CA's serve the rest.
                let fixed = config.tlsSites.map { ($0.host, $0.cert, $0.key) }
                let issued = acmeCertificates.filter { name, _ in !config.tlsSites.contains { $0.host == name } }
                    .sorted { $0.key < $1.key }.map { ($0.key, $0.value.chain, $0.value.key) }
                sites = fixed + issued
                def = config.tlsDefault ?? sites.first?.host ?? ""
            } else {
                sites = config.tlsSites.map { ($0.host, $0.cert, $0.key) }
                def = config.tlsDefault ?? config.tlsSites.first?.host ?? ""
            }
            // A `tls auto` name with no certificate yet is refused, not given another's.
            let awaited = t.auto ? Set(config.acmeNames.map { $0.lowercased() }).subtracting(sites.map { $0.host.lowercased() }) : []
            if let previous = old[key],
               previous.fingerprint == TLSContextSet.fingerprint(sites: sites, defaultHost: def, minVersion: t.minVersion, awaited: awaited) {
                out[key] = previous  // same files, unchanged since: nothing to read again
                continue
            }
            do {
                out[key] = try TLSContextSet(sites: sites, defaultHost: def, minVersion: t.minVersion,
                                             challenges: t.auto ? acmeChallenges : nil, awaited: awaited)
            } catch {
                guard let previous = old[key] else { throw ProxyError("\(l.location): \(error)") }
                logger.error("TLS certificates not reloaded: keeping the ones in use", metadata: ["listen": "\(key)", "error": "\(error)"])
                out[key] = previous
            }
        }
        return out
    }

    /// Binds `l` once per worker. For a given port, a probe bind without
    /// SO_REUSEPORT first fails if anyone (even another berth) holds it. For
    /// `:0` the first worker's socket takes the port the kernel picks and the
    /// others join it (a probe closed before the real binds would leave the
    /// port free for anyone to take in between).
    private func openListener(_ l: ListenConfig, closingOnError others: [Int32]) throws -> (key: String, fds: [Int32]) {
        var fds: [Int32] = []
        let key: String
        if let given = inherited.take(l.address) {
            return try adoptListener(l, given, closingOnError: others)
        }
        do throws(SocketError) {
            var address = try SocketAddress(l.address, passive: true)
            let port: Int
            if l.address.port == 0 {
                let first = try Socket.listen(address, reusePort: true, backlog: 4096)
                fds.append(first)
                port = Socket.localPort(first)
                address = try SocketAddress(HostPort(host: l.address.host, port: port), passive: true)
            } else {
                let probe = try Socket.listen(address, reusePort: false, backlog: 1)
                port = Socket.localPort(probe)
                Socket.close(probe)
            }
            let resolved = HostPort(host: l.address.host, port: port)
            while fds.count < workerCount { fds.append(try Socket.listen(address, reusePort: true, backlog: 4096)) }
            fds.forEach(Socket.prepareHTTPListener)
            key = resolved.description
            listenPorts[key] = port
            listenFDs[key] = fds
            listenAliases[l.address.description] = key
        } catch {
            (fds + others).forEach(Socket.close)
            throw ProxyError("\(l.location): \(error.description)")
        }
        return (key, fds)
    }

    /// `l` on sockets a previous serve handed over: one per worker (more are
    /// opened beside them in the same SO_REUSEPORT group when this serve has
    /// more workers; spare ones are closed, losing what waits in their queues).
    private func adoptListener(_ l: ListenConfig, _ given: [Int32], closingOnError others: [Int32]) throws -> (key: String, fds: [Int32]) {
        let port = Socket.localPort(given[0])
        let resolved = HostPort(host: l.address.host, port: port)
        var fds = Array(given.prefix(workerCount))
        given.dropFirst(workerCount).forEach(Socket.close)
        do throws(SocketError) {
            let address = try SocketAddress(resolved, passive: true)
            while fds.count < workerCount { fds.append(try Socket.listen(address, reusePort: true, backlog: 4096)) }
        } catch {
            (fds + others).forEach(Socket.close)
            throw ProxyError("\(l.location): \(error.description)")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            Socket.prepareHTTPListener(fd)  // a serve from before these settings handed them over without them
        }
        let key = resolved.description
        listenPorts[key] = port
        listenFDs[key] = fds
        listenAliases[l.address.description] = key
        return (key, fds)
    }

    /// The listening sockets a new serve takes over (`berth upgrade`): each
    /// listen line's sockets, under the line as written and its resolved
    /// address, and the admin listener's. They stay this server's too.
    public func socketsToHandOver() -> HandedOverSockets {
        control.withLock { _ in
            var out = HandedOverSockets()
            for l in config.listens {
                guard let key = listenAliases[l.address.description], let fds = listenFDs[key] else { continue }
                out.add(written: l.address.description, resolved: key, fds: fds)
            }
            out.admin = admin?.socket
            return out
        }
    }

    /// The bound listener a listen line means, if one is bound: the same line
    /// as before, or an explicit address equal to a bound one (even one that
    /// was `:0` and resolved to it).
    private func boundKey(_ l: ListenConfig) -> String? {
        if let k = listenAliases[l.address.description] { return k }
        if l.address.port != 0, listenPorts[l.address.description] != nil { return l.address.description }
        return nil
    }

    /// A server for `config` alone (no container apps).
    public convenience init(config: Config, logger: Logger = Logger(label: "berth.proxy")) throws {
        try self.init(RoutingInput(config: config, apps: [:]), logger: logger)
    }

    /// Starts one thread per worker, and the admin listener. Throws when the
    /// system refuses a thread (the ones started are stopped).
    public func start() throws(OSThread.StartError) {
        do throws(OSThread.StartError) {
            for w in workers {
                let finished = self.finished
                threads.append(try OSThread.start({
                    w.run()
                    finished.signal()
                }))
            }
            try admin?.start()
        } catch {
            stop()
            throw error
        }
    }

    // MARK: - reload

    /// Serves `input`: a new route table for every worker, listeners opened
    /// or closed as the diff says. Throws (changing nothing) when the new
    /// config cannot be served or a worker does not acknowledge in time;
    /// returns once every worker switched.
    public func apply(_ input: RoutingInput) throws(DataPlaneError) -> AppliedGeneration {
        if stopping.load(ordering: .relaxed) { throw .stopping }
        return try control.withLock { _ throws(DataPlaneError) in
            do throws(DataPlaneError) {
                let outcome = try applyOrThrow(input)
                published.withLock { $0.reloadsApplied += 1 }
                return outcome
            } catch {
                published.withLock { $0.reloadsRejected += 1 }
                throw error
            }
        }
    }

    /// A config alone (no container apps): tests and tools.
    @discardableResult
    public func apply(_ newConfig: Config) throws(DataPlaneError) -> AppliedGeneration {
        try apply(RoutingInput(config: newConfig, apps: routing, previous: previousRouting))
    }

    /// Routes container apps to where their replicas are now (a replica
    /// started, restarted in a new namespace, or stopped); the config and its
    /// generation stay. Returns once every worker has the new table.
    public func route(_ apps: [String: AppRouting], previous: [String: [Placement]]) throws(DataPlaneError) {
        if stopping.load(ordering: .relaxed) { throw .stopping }
        try control.withLock { _ throws(DataPlaneError) in try republish(apps, previous: previous) }
    }

    private func republish(_ apps: [String: AppRouting], previous: [String: [Placement]]) throws(DataPlaneError) {
        guard apps != routing || previous != previousRouting else { return }
        let table: RouteTable
        do {
            table = try RouteTable(RoutingInput(config: config, apps: apps, previous: previous), registry: registry, generation: generation,
                                   reusing: published.withLock { $0.table })
        } catch {
            throw .rejected("\(error)")
        }
        let settings = makeSettings(config)
        let old = published.withLock { $0.table }
        try switchWorkers(
            forward: { _ in TableUpdate(table: table, settings: settings, addListeners: [], removeListeners: [], tls: self.tls) },
            back: { _ in TableUpdate(table: old, settings: settings, addListeners: [], removeListeners: [], tls: self.tls) })
        routing = apps
        previousRouting = previous
        published.withLock { $0.table = table }
        updateHealthCheckers(table)
        DeferredRelease.later(old)
    }

    /// New TLS contexts (the certificates changed, nothing else): the table
    /// and settings stay; every worker switches or none does.
    func republishTLS() throws {
        let newTLS = try tlsContexts(config, keys: listenAliases, keeping: tls)
        let table = published.withLock { $0.table }
        let settings = makeSettings(config)
        let oldTLS = tls
        // Before the switch: a parked handshake resumed by it finds its name in the new sets.
        acmeChallenges.setCurrentSets(newTLS.values.filter(\.servesACME))
        do {
            try switchWorkers(
                forward: { _ in TableUpdate(table: table, settings: settings, addListeners: [], removeListeners: [], tls: newTLS) },
                back: { _ in TableUpdate(table: table, settings: settings, addListeners: [], removeListeners: [], tls: oldTLS) })
        } catch {
            acmeChallenges.setCurrentSets(oldTLS.values.filter(\.servesACME))
            throw error
        }
        tls = newTLS
    }

    /// Counts a reload refused before it reached the proxy (an invalid file).
    public func recordRejectedReload() {
        published.withLock { $0.reloadsRejected += 1 }
    }

    private func applyOrThrow(_ input: RoutingInput) throws(DataPlaneError) -> AppliedGeneration {
        let newConfig = input.config
        let diff = ConfigDiff(from: config, to: newConfig)
        let gen = generation + 1
        let table: RouteTable
        do {
            table = try RouteTable(input, registry: registry, generation: gen, reusing: published.withLock { $0.table },
                                   changed: Set(diff.appsChangedPositions))
        } catch {
            throw .rejected("\(error)")
        }
        var effective = newConfig
        effective.workers = config.workers
        effective.accessLog = config.accessLog
        effective.admin = config.admin
        effective.stateDir = config.stateDir
        let oldKeys = Set(listenPorts.keys)
        let oldAliases = listenAliases
        var newKeys = Set<String>()
        var opened: [(key: String, fds: [Int32])] = []
        /// Undoes what this reload did to the listeners (opened sockets, aliases).
        func forgetOpened() {
            opened.flatMap(\.fds).forEach(Socket.close)
            for o in opened {
                listenPorts.removeValue(forKey: o.key)
                listenFDs.removeValue(forKey: o.key)
            }
            listenAliases = oldAliases
        }
        do {
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
        } catch {
            // openListener closed what this reload had opened.
            for o in opened {
                listenPorts.removeValue(forKey: o.key)
                listenFDs.removeValue(forKey: o.key)
            }
            listenAliases = oldAliases
            throw .rejected("\(error)")
        }
        let removed = Array(oldKeys.subtracting(newKeys))
        let newTLS: [String: TLSContextSet]
        do {
            newTLS = try tlsContexts(newConfig, keys: listenAliases, keeping: tls)
        } catch {
            forgetOpened()
            throw .rejected("\(error)")
        }
        let settings = makeSettings(effective)
        let oldTable = published.withLock { $0.table }
        let oldSettings = makeSettings(config)
        let oldTLS = tls
        acmeChallenges.setCurrentSets(newTLS.values.filter(\.servesACME))
        do throws(DataPlaneError) {
            // Old listeners stay open until every worker switched, so a
            // switch back never needs them reopened.
            try switchWorkers(
                forward: { i in TableUpdate(table: table, settings: settings, addListeners: opened.map { ($0.key, $0.fds[i]) },
                                            removeListeners: [], tls: newTLS) },
                back: { _ in TableUpdate(table: oldTable, settings: oldSettings, addListeners: [],
                                         removeListeners: opened.map(\.key), tls: oldTLS) })
        } catch {
            acmeChallenges.setCurrentSets(oldTLS.values.filter(\.servesACME))
            // The workers close the added listeners (those that got them);
            // the rest are the ones no worker took yet.
            for o in opened {
                listenPorts.removeValue(forKey: o.key)
                listenFDs.removeValue(forKey: o.key)
            }
            listenAliases = oldAliases
            throw error
        }
        if !removed.isEmpty { closeListeners(removed) }
        for key in removed {
            listenPorts.removeValue(forKey: key)
            listenFDs.removeValue(forKey: key)
        }
        listenAliases = listenAliases.filter { newKeys.contains($0.value) }
        config = effective
        tls = newTLS
        routing = input.apps
        previousRouting = input.previous
        ports = config.listens.map { boundKey($0).flatMap { listenPorts[$0] } ?? 0 }
        published.withLock {
            $0.table = table
            $0.appNames = registry.appNames
            $0.generation = gen
        }
        updateHealthCheckers(table)
        DeferredRelease.later(oldTable)
        return AppliedGeneration(generation: gen, diff: diff)
    }

    /// Sends every worker its `forward` update and waits for all of them to
    /// acknowledge. When one does not within `acknowledgeDeadline`, sends
    /// every worker its `back` update (a late worker applies both, in order,
    /// and ends on the old table too) and throws naming the first one late.
    private func switchWorkers(forward: (Int) -> TableUpdate, back: (Int) -> TableUpdate) throws(DataPlaneError) {
        let late = sendAndWait { i in forward(i) }
        guard let first = late.first else { return }
        logger.error("a worker did not acknowledge a new route table: switching every worker back",
                     metadata: ["workers": "\(late)", "deadline_s": "\(acknowledgeDeadline)"])
        let stillLate = sendAndWait { i in back(i) }
        if !stillLate.isEmpty {
            logger.error("workers have not acknowledged the switch back yet; they apply it when their loop runs",
                         metadata: ["workers": "\(stillLate)"])
        }
        throw .workerDidNotAcknowledge(worker: first, seconds: acknowledgeDeadline)
    }

    /// Every worker closes the listeners of `keys` (the switch is done: a
    /// late worker closes them when its loop runs, which is logged).
    private func closeListeners(_ keys: [String]) {
        let group = DispatchGroup()
        for w in workers {
            group.enter()
            w.send(.closeListeners(keys, done: { group.leave() }))
        }
        if group.wait(timeout: .now() + acknowledgeDeadline) == .timedOut {
            logger.error("a worker has not closed the listeners a reload dropped yet", metadata: ["listeners": "\(keys)"])
        }
    }

    /// The workers (ids, in order) that did not acknowledge `update` in time.
    private func sendAndWait(_ update: (Int) -> TableUpdate) -> [Int] {
        let acknowledged = Mutex(Set<Int>())
        let group = DispatchGroup()
        for (i, w) in workers.enumerated() {
            group.enter()
            let id = w.id
            w.send(.update(update(i), done: {
                acknowledged.withLock { _ = $0.insert(id) }
                group.leave()
            }))
        }
        _ = group.wait(timeout: .now() + acknowledgeDeadline)
        let acked = acknowledged.withLock { $0 }
        return workers.map(\.id).filter { !acked.contains($0) }
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
            do {
                try c.start()
                checkers[id] = c
            } catch {
                logger.error("health checks not started", metadata: ["server": "\(s.name)", "error": "\(error)"])
            }
        }
    }

    // MARK: - the control plane's questions

    /// Calls `completion` once no worker has an exchange in flight on any of
    /// `placements`, or after `timeout` seconds with the ones still busy.
    /// Workers report when a watched server's last exchange ends: no polling.
    public func whenIdle(_ placements: [Placement], includingTunnels: Bool, timeout: Double,
                         completion: @escaping @Sendable (DrainOutcome) -> Void) {
        let ids = control.withLock { _ in
            Dictionary(placements.compactMap { p in registry.existingID(p).map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
        }
        if ids.isEmpty {
            // Never routed: nothing can be in flight. Still on another thread,
            // as promised: the caller may hold locks the completion takes.
            DispatchQueue.global().async { completion(.drained) }
            return
        }
        let id = idleWatchIDs.add(1, ordering: .relaxed).newValue
        let workers = self.workers
        // Workers report on their own loops: the completion (which may stop
        // containers) runs elsewhere.
        let watch = IdleWaiter(workers: workers.map(\.id), servers: ids, completion: { outcome in
            for w in workers { w.send(.unwatchIdle(id: id)) }
            DispatchQueue.global().async { completion(outcome) }
        })
        for w in workers {
            let wid = w.id
            w.send(.watchIdle(IdleWatch(id: id, servers: Set(ids.keys), includesTunnels: includingTunnels,
                                        initial: { watch.initial(worker: wid, busy: $0) },
                                        becameIdle: { watch.idle(worker: wid, server: $0) })))
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { watch.expire() }
    }

    /// One readiness probe of a replica, inside its namespace.
    public func closeTunnels(_ placements: [Placement], spread: Double, completion: @escaping @Sendable (DrainOutcome) -> Void) {
        let ids = control.withLock { _ in Set(placements.compactMap { registry.existingID($0) }) }
        for w in workers where !ids.isEmpty { w.send(.closeTunnels(servers: ids, spread: spread)) }
        // Each closes within the spread, plus the wait for a server's frame to end.
        whenIdle(placements, includingTunnels: true, timeout: spread + ClientConnection.frameEndWait + 1, completion: completion)
    }

    public func probe(_ placement: Placement, health: HealthCheck?, timeout: Double) -> ProbeResult {
        SocketReplicaProbe.check(placement, health: health, timeout: timeout)
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
    public func drainAll(timeout: Double) -> Bool {
        stopping.store(true, ordering: .relaxed)
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
        stopping.store(true, ordering: .relaxed)
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
        for t in threads { OSThread.join(t) }
        threads.removeAll()
        if let fd = accessLogFD, fd > 2 { Glibc.close(fd) }
        accessLogFD = nil
    }
}

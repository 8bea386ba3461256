#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP
import Logging

/// One event-loop thread: its listeners, its client connections, its pools of
/// upstream connections and its access-log batch. Everything here is touched
/// only by this worker's thread once `run()` starts (hence `@unchecked Sendable`:
/// the only cross-thread entry is `stop()`, which goes through ev_async).
final class Worker: @unchecked Sendable {
    let id: Int
    let loop = EventLoop()
    let settings: ProxySettings
    let logger: Logger
    private(set) var table: RouteTable
    private(set) var pools: [UpstreamPool]
    private var roundRobin: [Int]
    private var listeners: [Listener] = []
    private var clients: [ClientConnection] = []
    let accessLog: AccessLog?
    var requestIDs = RequestIDGenerator()
    private var acceptPaused = false
    private var sweepTimer: RepeatingTimer?
    private var beforeBlocking: BeforeBlocking?
    /// Closed connections kept alive until the loop is about to block, so no
    /// object is freed while one of its own callbacks is still on the stack.
    private var graveyard: [AnyObject] = []
    private var stopSignal: AsyncWakeup?

    init(id: Int, table: RouteTable, settings: ProxySettings, listenFDs: [Int32], accessLogFD: Int32?, logger: Logger) {
        self.id = id
        self.table = table
        self.settings = settings
        self.logger = logger
        pools = table.servers.map { UpstreamPool(server: $0) }
        roundRobin = Array(repeating: 0, count: table.routes.count)
        accessLog = accessLogFD.map { AccessLog(fd: $0) }
        listeners = listenFDs.map { Listener(fd: $0, worker: self) }
        stopSignal = AsyncWakeup(loop: loop) { [unowned self] in self.shutdown() }
        sweepTimer = RepeatingTimer(loop: loop, interval: 0.1) { [unowned self] in self.sweep() }
        beforeBlocking = BeforeBlocking(loop: loop) { [unowned self] in
            self.accessLog?.flush()
            if !self.graveyard.isEmpty { self.graveyard.removeAll(keepingCapacity: true) }
        }
    }

    /// The thread body: accept and serve until `stop()`.
    func run() {
        for l in listeners { l.watcher.set(read: true) }
        loop.run()
        accessLog?.flush()
        graveyard.removeAll()
    }

    /// Asks the worker to close everything and return from `run()` (any thread).
    func stop() { stopSignal?.send() }

    private func shutdown() {
        for l in listeners { l.close() }
        listeners.removeAll()
        for c in clients { c.abort() }
        for p in pools { p.closeAll() }
        sweepTimer = nil
        loop.stop()
    }

    // MARK: - client registry

    var canAccept: Bool { clients.count < settings.connectionsPerWorker }

    func adopt(fd: Int32, peer: [UInt8]) {
        let c = ClientConnection(fd: fd, peer: peer, worker: self)
        c.registryIndex = clients.count
        clients.append(c)
        if !canAccept && !acceptPaused {
            acceptPaused = true
            for l in listeners { l.watcher.set(read: false) }
        }
        c.start()
    }

    func forget(_ c: ClientConnection) {
        let i = c.registryIndex
        guard i >= 0 && i < clients.count && clients[i] === c else { return }
        let last = clients.removeLast()
        if i < clients.count {
            clients[i] = last
            last.registryIndex = i
        }
        c.registryIndex = -1
        graveyard.append(c)
        if acceptPaused && canAccept {
            acceptPaused = false
            for l in listeners { l.watcher.set(read: true) }
        }
    }

    /// Fires the deadlines that passed: timeouts are checked ten times a
    /// second instead of one timer per connection per request.
    private func sweep() {
        let now = loop.now
        var i = 0
        while i < clients.count {
            let c = clients[i]
            if c.deadline <= now {
                c.deadlinePassed()
            }
            // `c` may have removed itself (and a later one moved to `i`).
            if i < clients.count && clients[i] === c { i += 1 }
        }
        let cutoff = now - settings.idleTimeout
        for p in pools { p.expire(before: cutoff) }
    }

    /// Keeps `obj` alive until the end of this loop iteration.
    func retire(_ obj: AnyObject) {
        graveyard.append(obj)
    }

    // MARK: - upstream selection

    /// The pool to send `route`'s next request to (roundrobin or leastconn).
    func choosePool(routeIndex: Int) -> UpstreamPool {
        let route = table.routes[routeIndex]
        let ids = route.serverIDs
        if ids.count == 1 { return pools[ids[0]] }
        switch route.balance {
        case .roundRobin:
            let n = roundRobin[routeIndex]
            roundRobin[routeIndex] = n &+ 1
            return pools[ids[n % ids.count]]
        case .leastConn:
            let start = roundRobin[routeIndex]
            roundRobin[routeIndex] = start &+ 1
            var best = pools[ids[start % ids.count]]
            for k in 1..<ids.count {
                let p = pools[ids[(start + k) % ids.count]]
                if p.active < best.active { best = p }
            }
            return best
        }
    }

    /// A connection to `pool`'s server: an idle pooled one, else a new one.
    func connect(_ pool: UpstreamPool) -> UpstreamConnection? {
        if let c = pool.take() { return c }
        guard let (fd, inProgress) = Socket.connect(pool.server.address) else { return nil }
        return UpstreamConnection(fd: fd, connecting: inProgress, pool: pool, worker: self)
    }

    /// Returns a finished connection to its pool, or closes it if the pool is full.
    func release(_ conn: UpstreamConnection) {
        conn.reused = true
        conn.inBuf.clear()
        if conn.pool.put(conn, max: settings.maxIdlePerServer, now: loop.now) {
            conn.park()
        } else {
            conn.close()
        }
    }
}

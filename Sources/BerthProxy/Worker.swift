#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP
import CBerthSystem
import Logging

/// One event-loop thread: its listeners, its client connections, its pools of
/// upstream connections, its stats and its access-log batch. Everything here
/// is touched only by this worker's thread once `run()` starts (hence
/// `@unchecked Sendable`); other threads talk to it through `send(_:)`.
final class Worker: @unchecked Sendable {
    let id: Int
    let loop = EventLoop()
    /// The loop's cached time, in seconds.
    @inline(__always) var now: Double { loop.now }
    /// The blocks connection buffers borrow while they hold bytes.
    let buffers: BufferPool
    /// Pipes lent to exchanges whose plain bodies splice.
    let splicePipes = SplicePipes()
    private(set) var settings: ProxySettings
    let logger: Logger
    /// The routing snapshot new requests use.
    private(set) var table: RouteTable
    /// Pools by server id (stable across reloads); nil for servers no longer routed.
    private var pools: [UpstreamPool?] = []
    private var listeners: [String: Listener] = [:]
    private var clients: [ClientConnection] = []
    /// HTTP/2 connections (their streams are in `clients`).
    private var h2Connections: [H2Connection] = []
    /// HTTP/2 connections (client and upstream) that owe a pump before the loop blocks.
    private var h2Dirty = BatchQueue<any LoopPumped>()
    private(set) var stats: [AppStats] = []
    private(set) var upstreamConnections = 0
    let accessLog: AccessLog?
    var requestIDs = RequestIDGenerator()
    private(set) var draining = false
    private var acceptPaused = false
    private var sweepTimer: RepeatingTimer?
    private var beforeBlocking: BeforeBlocking?
    private let mailbox = Mailbox()
    private var wakeup: AsyncWakeup?
    /// Closed connections kept alive until the loop is about to block, so no
    /// object is freed while one of its own callbacks is still on the stack.
    private var graveyard: [AnyObject] = []
    /// Inner connections of ended HTTP/2 streams, recycled before the loop
    /// blocks (one allocation, init and deinit fewer per stream) ...
    private var endedStreamConnections: [ClientConnection] = []
    /// ... into these, which the next streams take (all of them go after a
    /// sweep window in which no stream began).
    private var spareStreamConnections: [ClientConnection] = []
    static let maxSpareStreamConnections = 1024
    /// Ended streams of those connections, for the next streams of any HTTP/2 connection.
    private var spareStreams: [H2Stream] = []
    private var streamsSinceSweep = 0
    /// Streams served by a recycled inner connection, and recycled streams (for tests).
    private(set) var recycledStreamConnections = 0
    private(set) var recycledStreams = 0
    /// Requests waiting for a starting app (retried on every table update and sweep).
    var held: [ClientConnection] = []
    /// Opens upstream connections instead of sockets (tests: in memory); nil
    /// for the real network. Gets the server, returns how to make the
    /// connection's transport, or nil when the server refuses.
    var dialer: ((UpstreamServer) -> ((IOEventHandler) -> Transport)?)?
    /// Servers the control plane waits on to be idle: watch id → the
    /// watch and the servers still busy here.
    private var idleWatches: [Int: (watch: IdleWatch, busy: Set<Int>)] = [:]

    /// Certificates by listen key, for the TLS listeners.
    private(set) var tls: [String: TLSContextSet]
    /// ACME HTTP-01 answers (the server's; nil in tests that make a worker alone).
    var acmeChallenges: ACMEChallenges?

    /// `link` listeners this worker serves, by id, and their open connections.
    private var linkListeners: [Int: LinkListener] = [:]
    private var linkPipes: [ObjectIdentifier: LinkPipe] = [:]
    /// TLS handshakes waiting for an on-demand certificate.
    private var parked: [ClientConnection] = []
    /// Connections a link refused because no replica of its app was live (metrics, tests).
    private(set) var linksRefused = 0

    init(id: Int, table: RouteTable, settings: ProxySettings, listenFDs: [(key: String, fd: Int32)],
         tls: [String: TLSContextSet], accessLogFD: Int32?, logger: Logger) {
        self.tls = tls
        self.id = id
        buffers = BufferPool(blockSize: settings.bufferSize)
        self.table = table
        self.settings = settings
        self.logger = logger
        accessLog = accessLogFD.map { AccessLog(fd: $0) }
        for (key, fd) in listenFDs { listeners[key] = Listener(fd: fd, key: key, worker: self) }
        adoptPools(for: table)
        wakeup = AsyncWakeup(loop: loop) { [unowned self] in self.handleMessages() }
        sweepTimer = RepeatingTimer(loop: loop, interval: 0.1) { [unowned self] in self.sweep() }
        // One call: each use of an unowned `self` in the closure would take and drop a reference.
        beforeBlocking = BeforeBlocking(loop: loop) { [unowned self] in self.endOfTurn() }
    }

    /// What a loop turn ends with, outside every handler: HTTP/2 output,
    /// the access log, and the objects that ended in this turn.
    private func endOfTurn() {
        pumpH2()
        accessLog?.flush()
        if !graveyard.isEmpty { graveyard.removeAll(keepingCapacity: true) }
        if !endedStreamConnections.isEmpty { recycleStreamConnections() }
    }

    /// The thread body: accept and serve until drained or stopped.
    func run() {
        for l in listeners.values { l.watcher.set(read: true) }
        loop.run()
        accessLog?.flush()
        graveyard.removeAll()
        endedStreamConnections.removeAll()
        spareStreamConnections.removeAll()
        spareStreams.removeAll()
    }

    /// Outside every handler (nothing on the stack uses them): an ended
    /// stream's inner connection that only this list references is reset
    /// and kept for the next stream; any other is let go.
    private func recycleStreamConnections() {
        while var c = endedStreamConnections.popLast() {
            guard spareStreamConnections.count < Self.maxSpareStreamConnections, c.recyclable,
                  isKnownUniquelyReferenced(&c) else { continue }
            // Its stream lives while the connection's transport holds it.
            var stream: H2Stream? = c.h2HeadSink
            c.recycle()
            spareStreamConnections.append(c)
            // The stream too, once its HTTP/2 connection has let go of it.
            if spareStreams.count < Self.maxSpareStreamConnections, isKnownUniquelyReferenced(&stream),
               let s = stream, s.isClosed {
                spareStreams.append(s)
            }
        }
    }

    /// A stream for `connection`: a recycled one, or a new one.
    func makeStream(id: Int32, connection: H2Connection) -> H2Stream {
        guard let s = spareStreams.popLast() else { return H2Stream(id: id, connection: connection) }
        s.reuse(id: id, connection: connection)
        recycledStreams += 1
        return s
    }

    /// Delivers `message` to this worker's loop (any thread).
    func send(_ message: WorkerMessage) {
        mailbox.post(message)
        wakeup?.send()
    }

    private func handleMessages() {
        for m in mailbox.takeAll() {
            switch m {
            case .update(let u, let done):
                apply(u)
                done()
            case .closeListeners(let keys, let done):
                for key in keys { listeners.removeValue(forKey: key)?.close() }
                done()
            case .snapshot(let reply):
                reply(WorkerSnapshot(apps: stats, clientConnections: clients.count, upstreamConnections: upstreamConnections,
                                     splicedBytes: splicePipes.splicedBytes))
            case .watchIdle(let w):
                let busy = w.servers.filter { isBusy($0, tunnels: w.includesTunnels) }
                w.initial(busy)
                if !busy.isEmpty { idleWatches[w.id] = (w, busy) }
            case .unwatchIdle(let id):
                idleWatches[id] = nil
            case .openLink(let id, let fd, let app):
                linkListeners[id] = LinkListener(id: id, fd: fd, app: app, worker: self)
            case .resumeHandshakes:
                resumeParked()
            case .closeLink(let id):
                linkListeners.removeValue(forKey: id).map { l in
                    l.close()
                    retire(l)
                }
            case .run(let body):
                body()
            case .closeTunnels(let servers, let spread):
                for c in clients where c.phase == .tunnel {
                    if let id = c.upstreamPool?.server.id, servers.contains(id) { c.retireTunnel(within: spread) }
                }
            case .drain:
                beginDrain()
            case .stop:
                shutdown()
            }
        }
    }

    /// Swaps in a reloaded table: requests already started keep their route
    /// (and pool); the next request on every connection uses the new one.
    func apply(_ u: TableUpdate) {
        table = u.table
        settings = u.settings
        tls = u.tls
        adoptPools(for: table)
        for key in u.removeListeners {
            listeners.removeValue(forKey: key)?.close()
        }
        for (key, fd) in u.addListeners {
            let l = Listener(fd: fd, key: key, worker: self)
            listeners[key] = l
            if !acceptPaused && !draining { l.watcher.set(read: true) }
        }
        retryHeld()
        resumeParked()
    }

    /// Gives every held request another chance at a server.
    private func retryHeld() {
        guard !held.isEmpty else { return }
        let waiting = held
        held.removeAll()
        for c in waiting { c.retryHeld() }
    }

    /// Makes `pools` match `table.servers`, keeping the pools of servers that stay.
    private func adoptPools(for table: RouteTable) {
        let maxID = table.servers.map(\.id).max() ?? -1
        if pools.count <= maxID { pools += Array(repeating: nil, count: maxID + 1 - pools.count) }
        var routed = [Bool](repeating: false, count: pools.count)
        for s in table.servers {
            routed[s.id] = true
            if pools[s.id] == nil { pools[s.id] = UpstreamPool(server: s) }
        }
        for i in 0..<pools.count where !routed[i] && pools[i] != nil {
            pools[i]?.closeAll()  // connections in use finish on their own
            pools[i]?.retireSessions()
            pools[i] = nil
        }
    }

    private func shutdown() {
        for l in listeners.values { l.close() }
        listeners.removeAll()
        closeLinks()
        for c in h2Connections { c.close() }
        for c in clients { c.abort() }
        for p in pools {
            p?.closeAll()
            p?.closeSessions()
        }
        sweepTimer = nil
        loop.stop()
    }

    // MARK: - draining

    private func beginDrain() {
        guard !draining else { return }
        draining = true
        for l in listeners.values { l.close() }
        listeners.removeAll()
        for c in clients { c.drainRequested() }
        for c in h2Connections { c.drainRequested() }
        stopIfDrained()
    }

    /// Returns from `run()` once the last client is gone.
    func stopIfDrained() {
        guard draining && clients.isEmpty && h2Connections.isEmpty else { return }
        closeLinks()
        for p in pools {
            p?.closeAll()
            p?.closeSessions()
        }
        sweepTimer = nil
        loop.stop()
    }

    // MARK: - client registry

    var canAccept: Bool { clients.count < settings.connectionsPerWorker && !draining }

    func adopt(fd: Int32, peer: [UInt8], tls session: TLSSession? = nil, h2c: Bool = false) {
        let loop = self.loop
        adopt(peer: peer, tls: session, h2c: h2c) { SocketTransport(fd: fd, loop: loop, handler: $0) }
    }

    /// A client on any transport (tests adopt in-memory ones).
    func adopt(peer: [UInt8], tls session: TLSSession? = nil, h2c: Bool = false, transport: (IOEventHandler) -> Transport) {
        let c = ClientConnection(peer: peer, worker: self, tls: session, transport: transport)
        c.acceptsH2c = h2c
        clients.register(c)
        if !canAccept && !acceptPaused {
            acceptPaused = true
            for l in listeners.values { l.watcher.set(read: false) }
        }
        c.start()
    }

    // MARK: - HTTP/2

    /// A connection that turned out to speak HTTP/2 (ALPN h2, or the h2c preface).
    func adoptH2(fd: Int32, peer: [UInt8], tls: TLSSession?, initial: [UInt8]) {
        guard let c = initial.withUnsafeBytes({ H2Connection(fd: fd, peer: peer, tls: tls, worker: self, initial: $0) }) else {
            Socket.close(fd)
            return
        }
        h2Connections.register(c)
        if draining { c.drainRequested() }
        c.start()
    }

    /// One stream's inner HTTP/1.1 connection.
    func adoptStream(peer: [UInt8], overTLS: Bool, transport: H2StreamTransport) -> ClientConnection {
        let c: ClientConnection
        streamsSinceSweep += 1
        if let spare = spareStreamConnections.popLast() {
            spare.reuse(peer: peer) { _ in transport }
            recycledStreamConnections += 1
            c = spare
        } else {
            c = ClientConnection(peer: peer, worker: self, tls: nil) { _ in transport }
        }
        transport.attach(c)
        c.h2Stream = overTLS ? .tls : .cleartext
        c.h2HeadSink = transport.stream
        clients.register(c)
        c.start()
        return c
    }

    func h2NeedsPump(_ c: any LoopPumped) {
        guard !c.dirty else { return }
        c.dirty = true
        h2Dirty.append(c)
    }

    private func pumpH2() {
        var rounds = 0
        while !h2Dirty.isEmpty && rounds < 16 {
            rounds += 1
            var batch = h2Dirty.take()
            for c in batch {
                c.dirty = false
                c.pump()
            }
            h2Dirty.recycle(&batch)
        }
    }

    /// A closed connection leaves the registry for the graveyard (freed at
    /// the end of the loop turn), in that order: the registry's reference
    /// may be the last, and the connection is still on the stack.
    func forget(_ c: H2Connection) {
        guard h2Connections.holds(c) else { return }
        graveyard.append(c)
        if h2Connections.unregister(c) { stopIfDrained() }
    }

    func forget(_ c: ClientConnection) {
        guard clients.holds(c) else { return }
        if c.h2Stream != nil { endedStreamConnections.append(c) } else { graveyard.append(c) }
        guard clients.unregister(c) else { return }
        if acceptPaused && canAccept {
            acceptPaused = false
            for l in listeners.values { l.watcher.set(read: true) }
        }
        stopIfDrained()
    }

    // MARK: - on-demand certificates

    func park(_ c: ClientConnection) {
        parked.removeAll { $0.phase == .closed }  // timed out meanwhile
        if !parked.contains(where: { $0 === c }) { parked.append(c) }
    }

    private func resumeParked() {
        guard !parked.isEmpty else { return }
        let waiting = parked
        parked.removeAll()
        for c in waiting { c.resumeHandshake() }
    }

    // MARK: - links

    /// Forwards an accepted link connection to the replica `upstream` is connecting to.
    func startPipe(client: Int32, upstream: Int32, connecting: Bool) {
        let pipe = LinkPipe(client: client, upstream: upstream, connecting: connecting, loop: loop, buffers: buffers) {
            [unowned self] p in
            self.linkPipes[ObjectIdentifier(p)] = nil
            self.retire(p)
        }
        linkPipes[ObjectIdentifier(pipe)] = pipe
        pipe.start()
    }

    func linkRefused(_ app: String) {
        linksRefused += 1
        if linksRefused == 1 || linksRefused % 100 == 0 {
            logger.warning("link refused a connection: no live replica", metadata: ["app": "\(app)", "refused": "\(linksRefused)"])
        }
    }

    private func closeLinks() {
        for l in linkListeners.values { l.close() }
        linkListeners.removeAll()
        for p in Array(linkPipes.values) { p.close() }
    }

    /// Keeps `obj` alive until the end of this loop iteration.
    func retire(_ obj: AnyObject) {
        graveyard.append(obj)
    }

    /// Fires the deadlines that passed: timeouts are checked ten times a
    /// second instead of one timer per connection per request.
    func sweep() {
        let now = loop.now
        for c in h2Connections where c.deadline <= now { c.deadlinePassed() }
        var i = 0
        while i < clients.count {
            let c = clients[i]
            if c.deadline <= now {
                c.deadlinePassed()
            } else {
                c.releaseBuffersIfIdle()
            }
            // `c` may have removed itself (and a later one moved to `i`).
            if i < clients.count && clients[i] === c { i += 1 }
        }
        let cutoff = now - settings.idleTimeout
        for p in pools {
            p?.expire(before: cutoff)
            p?.releaseIdleBuffers()  // a parked connection holds no buffer
        }
        retryHeld()
        if streamsSinceSweep == 0 {
            if !spareStreamConnections.isEmpty { spareStreamConnections.removeAll() }
            if !spareStreams.isEmpty { spareStreams.removeAll() }
        }
        streamsSinceSweep = 0
        // Memory freed past the pool's cap goes back to the system (glibc
        // keeps freed small blocks in its heap otherwise), once the load has
        // stopped: no block malloc'd and few lent in the last window. Under
        // load the freed memory is taken again at once, and a trim (one
        // madvise per free run of pages, then a page fault per page reused)
        // cost more system time per HTTP/2 request than its syscalls did.
        buffers.settle()
        let settled = buffers.takeAllocations() == 0
        let quiet = buffers.takeLends() < buffers.keep
        if settled && quiet && buffers.freedBytes >= 4 << 20 {
            buffers.resetFreed()
            cberth_malloc_trim()
        }
    }

    // MARK: - idle watches

    /// Whether some exchange (or, with `tunnels`, some tunnel) on this worker is on server `id`.
    private func isBusy(_ id: Int, tunnels: Bool) -> Bool {
        clients.contains { $0.upstreamPool?.server.id == id && (tunnels || $0.phase != .tunnel) }
    }

    /// An exchange let go of `pool` (finished, failed, closed, or became a
    /// tunnel): tells the watches on its server when that was the server's
    /// last one here (tunnels count for the watches that include them).
    func exchangeLeft(_ pool: UpstreamPool) {
        guard !idleWatches.isEmpty else { return }
        let id = pool.server.id
        guard idleWatches.values.contains(where: { $0.busy.contains(id) }) else { return }
        let idle = pool.active == 0
        var busyCounting: [Bool: Bool] = [:]
        for (key, var entry) in idleWatches where entry.busy.contains(id) {
            let tunnels = entry.watch.includesTunnels
            if !idle {
                if busyCounting[tunnels] == nil { busyCounting[tunnels] = isBusy(id, tunnels: tunnels) }
                if busyCounting[tunnels]! { continue }
            }
            entry.busy.remove(id)
            entry.watch.becameIdle(id)
            idleWatches[key] = entry.busy.isEmpty ? nil : entry
        }
    }

    // MARK: - stats

    func record(appID: Int, status: Int, seconds: Double) {
        if stats.count <= appID { stats += Array(repeating: AppStats(), count: appID + 1 - stats.count) }
        stats[appID].record(status: status, seconds: seconds)
    }

    // MARK: - upstream selection

    /// The pool for `route`'s next request (roundrobin or leastconn over the
    /// servers that are up and not in `excluded`), or nil when none is.
    /// A pool of `route`'s draining old version (`skew-retry`), round robin
    /// over those up; nil when none is.
    func choosePreviousPool(_ route: Route) -> UpstreamPool? {
        let servers = route.previousServers
        guard !servers.isEmpty else { return nil }
        let nowMs = Int(loop.now * 1000)
        let start = route.nextServer.add(1, ordering: .relaxed).oldValue
        for k in 0..<servers.count {
            let s = servers[(start &+ k) % servers.count]
            if s.health.isAvailable(nowMs: nowMs), s.id < pools.count, let p = pools[s.id] { return p }
        }
        return nil
    }

    func choosePool(_ route: Route, excluding excluded: UpstreamServer? = nil) -> UpstreamPool? {
        let servers = route.servers
        let n = servers.count
        if n == 0 { return nil }
        let nowMs = Int(loop.now * 1000)
        if n == 1 {
            let s = servers[0]
            guard s !== excluded, s.health.isAvailable(nowMs: nowMs) else { return nil }
            return pool(for: s)
        }
        let start = route.nextServer.add(1, ordering: .relaxed).oldValue
        var best: UpstreamPool?
        for k in 0..<n {
            let s = servers[(start &+ k) % n]
            guard s !== excluded, s.health.isAvailable(nowMs: nowMs), s.id < pools.count, let p = pools[s.id] else { continue }
            if route.balance == .roundRobin { return p }
            if best == nil || p.active < best!.active { best = p }
        }
        return best
    }

    /// The pool of `server` in this worker, if it is still routed.
    func pool(for server: UpstreamServer) -> UpstreamPool? {
        server.id < pools.count ? pools[server.id] : nil
    }

    /// A connection to `pool`'s server: an idle pooled one, else a new one.
    func connect(_ pool: UpstreamPool) -> UpstreamConnection? {
        if let c = pool.take() { return c }
        if let dial = dialer {
            guard let make = dial(pool.server) else { return nil }
            upstreamConnections += 1
            return UpstreamConnection(connecting: false, pool: pool, worker: self, transport: make)
        }
        guard let (fd, inProgress) = Socket.connect(pool.server.address, in: pool.server.netns) else { return nil }
        upstreamConnections += 1
        let loop = self.loop
        return UpstreamConnection(connecting: inProgress, pool: pool, worker: self) {
            SocketTransport(fd: fd, loop: loop, handler: $0)
        }
    }

    /// A stream on `pool`'s HTTP/2 session (an h2c route), the session opened first if needed.
    func connectH2(_ pool: UpstreamPool) -> UpstreamConnection? {
        guard let session = pool.h2Session(worker: self) else { return nil }
        upstreamConnections += 1
        return UpstreamConnection(connecting: false, pool: pool, worker: self) { handler in
            let s = session.makeStream()
            s.handler = handler
            return s
        }
    }

    func upstreamClosed() { upstreamConnections -= 1 }

    /// Returns a finished connection to its pool, or closes it if the pool is
    /// full or the server is no longer routed.
    func release(_ conn: UpstreamConnection) {
        conn.reused = true
        conn.inBuf.clear()
        if pool(for: conn.pool.server) === conn.pool,
           conn.pool.put(conn, max: settings.maxIdlePerServer, now: loop.now) {
            conn.park()
        } else {
            conn.close()
        }
    }
}

/// A worker's own state for one upstream server: its idle keep-alive
/// connections (most recently used last), its HTTP/2 session for h2c
/// routes, and how many requests it is serving.
/// Per worker, so no locks: the config-derived `UpstreamServer` stays immutable.
final class UpstreamPool {
    let server: UpstreamServer
    private(set) var idle: [UpstreamConnection] = []
    var active = 0
    /// The session new h2c exchanges open streams on.
    private(set) var h2: H2UpstreamSession?
    /// Sessions that take no new streams and close when their last one ends.
    private var h2Retired: [H2UpstreamSession] = []

    init(server: UpstreamServer) {
        self.server = server
    }

    /// The most recently used idle connection, if any.
    func take() -> UpstreamConnection? {
        idle.popLast()
    }

    /// Keeps `conn` for reuse; false when the pool is full (the caller closes it).
    func put(_ conn: UpstreamConnection, max: Int, now: Double) -> Bool {
        guard idle.count < max else { return false }
        conn.idleSince = now
        idle.append(conn)
        return true
    }

    func remove(_ conn: UpstreamConnection) {
        if let i = idle.lastIndex(where: { $0 === conn }) { idle.remove(at: i) }
    }

    /// The session for a new h2c exchange: the current one, or a new connection.
    func h2Session(worker: Worker) -> H2UpstreamSession? {
        if let h2, h2.usable { return h2 }
        h2 = H2UpstreamSession(pool: self, worker: worker)
        return h2
    }

    func sessionRetired(_ s: H2UpstreamSession) {
        guard h2 === s else { return }
        h2 = nil
        h2Retired.append(s)
    }

    func sessionClosed(_ s: H2UpstreamSession) {
        if h2 === s { h2 = nil }
        h2Retired.removeAll { $0 === s }
    }

    /// The server is no longer routed: sessions finish their streams and close.
    func retireSessions() {
        h2?.retire()
        for s in h2Retired where s.isIdle { s.close() }
    }

    /// The worker stops: every session closes now.
    func closeSessions() {
        h2?.close()
        for s in h2Retired { s.close() }
    }

    /// Closes idle connections unused since before `cutoff`.
    func expire(before cutoff: Double) {
        h2?.closeIfIdle(before: cutoff)
        guard let first = idle.first, first.idleSince < cutoff else { return }
        let stale = idle.filter { $0.idleSince < cutoff }
        idle.removeAll { $0.idleSince < cutoff }
        for c in stale { c.close() }
    }

    /// Gives back the buffer blocks of the parked connections.
    func releaseIdleBuffers() {
        for c in idle { c.inBuf.release() }
    }

    func closeAll() {
        let all = idle
        idle.removeAll()
        for c in all { c.close() }
    }
}

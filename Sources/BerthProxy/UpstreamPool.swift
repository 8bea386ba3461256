/// A worker's own state for one upstream server: its idle keep-alive
/// connections (most recently used last) and how many requests it is serving.
/// Per worker, so no locks: the config-derived `UpstreamServer` stays immutable.
final class UpstreamPool {
    let server: UpstreamServer
    private(set) var idle: [UpstreamConnection] = []
    var active = 0

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

    /// Closes idle connections unused since before `cutoff`.
    func expire(before cutoff: Double) {
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

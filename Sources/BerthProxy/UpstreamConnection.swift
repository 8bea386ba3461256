import BerthHTTP

/// One TCP connection to an upstream server. While a client's exchange owns
/// it, readiness events go to that client; while idle in its pool, any byte
/// or EOF from the server means it is no longer usable and it is closed.
final class UpstreamConnection: IOEventHandler {
    /// Strong: a reload may drop the pool from its worker while this connection finishes.
    let pool: UpstreamPool
    /// Strong, and a `let`, as `ClientConnection.worker` is (and for the same reason).
    let worker: Worker
    /// The upstream's wire: a socket, or (tests) memory.
    private(set) var transport: Transport!
    let inBuf: ByteBuffer
    var connecting: Bool
    /// True once the connection has served a request (so a failure may be a stale keep-alive).
    var reused = false
    var eof = false
    var closed = false
    var idleSince = 0.0
    /// The client whose exchange owns this connection; nil while pooled.
    /// Strong, so it can never dangle: the pair is released when the exchange
    /// lets go of it (`park`, `close`), which every way a client closes does.
    var owner: ClientConnection?

    init(connecting: Bool, pool: UpstreamPool, worker: Worker, transport: (IOEventHandler) -> Transport) {
        self.connecting = connecting
        self.pool = pool
        self.worker = worker
        inBuf = ByteBuffer(pool: worker.buffers)
        self.transport = transport(self)
    }

    func ioReady(readable: Bool, writable: Bool) {
        if let owner {
            owner.upstreamReady(readable: readable, writable: writable)
            return
        }
        // Idle in the pool: the server closed it or spoke out of turn.
        close()
        pool.remove(self)
    }

    /// Parks the connection in its pool, watching for the server closing it.
    func park() {
        owner = nil
        transport.set(read: true, write: false)
    }

    func close() {
        guard !closed else { return }
        closed = true
        owner = nil
        transport.close()
        worker.upstreamClosed()
        worker.retire(self)
    }
}

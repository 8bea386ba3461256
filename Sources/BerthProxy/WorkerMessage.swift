import Synchronization

/// What a reload hands each worker: the new table and settings, the
/// listening sockets opened for it, and the addresses it should stop serving
/// (a forward switch closes none: old listeners close once every worker has
/// switched; a switch back closes the ones the forward switch added).
struct TableUpdate: Sendable {
    var table: RouteTable
    var settings: ProxySettings
    var addListeners: [(key: String, fd: Int32)]
    var removeListeners: [String]
    /// Certificates by listen key (re-read on every reload).
    var tls: [String: TLSContextSet]
}

/// Messages other threads send a worker; they run on its loop, in order.
enum WorkerMessage: Sendable {
    case update(TableUpdate, done: @Sendable () -> Void)
    /// Every worker switched: close the listeners the new config dropped.
    case closeListeners([String], done: @Sendable () -> Void)
    case snapshot(@Sendable (WorkerSnapshot) -> Void)
    /// Watch these servers (ids): `initial` gets the ones with an exchange
    /// (request or tunnel) in flight now, then `becameIdle` each of those
    /// when its last exchange on this worker ends.
    case watchIdle(IdleWatch)
    /// Forget a watch (it completed or timed out).
    case unwatchIdle(id: Int)
    /// Go on with the TLS handshakes parked for an on-demand certificate.
    case resumeHandshakes
    /// Serve a `link` listener (made in a consumer's namespace) for `app`.
    case openLink(id: Int, fd: Int32, app: String)
    /// Stop it (its open connections go on until either end closes).
    case closeLink(id: Int)
    /// Runs `body` on the worker's loop (tests use it to stall a worker).
    case run(@Sendable () -> Void)
    /// Close the tunnels to `servers`, each at a random moment within
    /// `spread` seconds (a WebSocket with a close frame, 1012).
    case closeTunnels(servers: Set<Int>, spread: Double)
    /// Stop accepting, finish what is in flight, then return from `run()`.
    case drain
    /// Close everything now and return from `run()`.
    case stop
}

/// A worker's inbox: other threads append under a lock and wake its loop.
final class Mailbox: Sendable {
    private let messages = Mutex<[WorkerMessage]>([])

    func post(_ m: WorkerMessage) {
        messages.withLock { $0.append(m) }
    }

    func takeAll() -> [WorkerMessage] {
        messages.withLock { m in
            let all = m
            m.removeAll()
            return all
        }
    }
}

/// One worker's part of a `whenIdle` request.
struct IdleWatch: Sendable {
    let id: Int
    let servers: Set<Int>
    /// Open tunnels count as busy too (else only exchanges do).
    let includesTunnels: Bool
    let initial: @Sendable (Set<Int>) -> Void
    let becameIdle: @Sendable (Int) -> Void
}

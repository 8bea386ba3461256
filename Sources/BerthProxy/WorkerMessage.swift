import Synchronization

/// What a reload hands each worker: the new table and settings, the
/// listening sockets opened for it, and the addresses it should stop serving.
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
    case snapshot(@Sendable (WorkerSnapshot) -> Void)
    /// How many exchanges (or tunnels) are on any of these servers right now.
    case countBusy(Set<Int>, @Sendable (Int) -> Void)
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

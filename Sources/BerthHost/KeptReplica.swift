import BerthRuntime
import Foundation
import Synchronization

/// A replica's container under its keeper process (`berth shim`), as the
/// control plane sees it. The container outlives this serve: stopping the
/// replica asks the keeper to stop it; `detach` only stops watching. A keeper
/// that dies (its socket closes unasked) is replaced: its container is
/// killed and deleted, and a new keeper starts it again from the same
/// bundle, after a backoff like the keeper's own.
final class KeptReplica: ReplicaProcess, @unchecked Sendable {
    let spec: KeeperSpec
    /// The serve's own container (overlay, volume locks); nil when adopted.
    private let container: Container?
    private let keeperBinary: String
    private let onChange: @Sendable () -> Void
    private let output: @Sendable (String) -> Void
    private let state = Mutex<(client: KeeperClient?, stopping: Bool, lost: Int, backoff: Double)>((nil, false, 0, 0.5))

    init(spec: KeeperSpec, container: Container?, keeperBinary: String, output: @escaping @Sendable (String) -> Void,
         onChange: @escaping @Sendable () -> Void) {
        self.spec = spec
        self.container = container
        self.keeperBinary = keeperBinary
        self.output = output
        self.onChange = onChange
    }

    var id: String { spec.id }
    var isAdopted: Bool { container == nil }
    var logPath: String { spec.logPath }

    var status: SupervisedContainer.Status {
        state.withLock { s in
            guard let c = s.client, let k = c.status else {
                var st = SupervisedContainer.Status()
                st.state = s.stopping ? .stopped : .backingOff
                st.restarts = s.lost
                return st
            }
            var st = k.container
            st.restarts += s.lost
            return st
        }
    }

    /// Starts a keeper for a new container, or (adopted) watches the one running.
    func start() throws {
        let c = container == nil ? try attach() : try launch()
        state.withLock { $0.client = c }
        onChange()
    }

    private func attach() throws -> KeeperClient {
        try KeeperClient.attach(spec, onChange: onChange, onLost: { [weak self] in self?.keeperLost() })
    }

    private func launch() throws -> KeeperClient {
        try KeeperClient.launch(spec, binary: keeperBinary, onChange: onChange, onLost: { [weak self] in self?.keeperLost() })
    }

    /// The keeper died: its container goes too (nothing of it is left
    /// running unsupervised), then a new keeper starts it again.
    private func keeperLost() {
        let delay = state.withLock { s -> Double? in
            s.client = nil
            guard !s.stopping else { return nil }
            s.lost += 1
            defer { s.backoff = min(s.backoff * 2, 30) }
            return s.backoff
        }
        onChange()
        guard let delay else { return }
        output("[run]   keeper of \(spec.id) exited; restarting its container in \(delay)s")
        spec.run.runc.forceDelete(spec.id)
        unlink(spec.socket)
        Thread.sleep(forTimeInterval: delay)
        guard !state.withLock({ $0.stopping }) else { return }
        do {
            let c = try launch()
            let keep = state.withLock { s -> Bool in
                guard !s.stopping else { return false }
                s.client = c
                return true
            }
            if !keep { c.stop(grace: 0) }
            onChange()
        } catch {
            output("[run]   keeper of \(spec.id) did not restart: \(error)")
            keeperLost()
        }
    }

    func stop(grace: Double) {
        let c = state.withLock { s -> KeeperClient? in
            s.stopping = true
            return s.client
        }
        if let c {
            if !c.stop(grace: grace) { spec.run.runc.forceDelete(spec.id) }
        } else {
            spec.run.runc.forceDelete(spec.id)
        }
        unlink(spec.socket)
        if let container { container.remove() } else { Container.removeFiles(spec.dir) }
        onChange()
    }

    func detach() {
        let c = state.withLock { s -> KeeperClient? in
            s.stopping = true
            return s.client
        }
        c?.detach()
    }

    func kill() { spec.run.kill(.kill) }

    func exec(_ args: [String], timeout: Double) -> Int32? {
        spec.run.runc.exec(spec.id, args, timeout: timeout)
    }
}

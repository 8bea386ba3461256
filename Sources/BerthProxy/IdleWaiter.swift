import BerthRouting
import Synchronization

/// Gathers the workers' answers to one `whenIdle` request: each worker first
/// says which watched servers it has exchanges on, then reports each one as
/// its last exchange there ends. Completes once, when no worker has any
/// left, or at the deadline with the servers still busy (a worker that never
/// answered counts as busy on all of them).
final class IdleWaiter: Sendable {
    private struct State {
        /// Per worker: the servers still busy there; nil until it answers.
        var busy: [Int: Set<Int>?]
        var done = false
    }

    private let state: Mutex<State>
    private let servers: [Int: Placement]
    private let completion: @Sendable (DrainOutcome) -> Void

    init(workers: [Int], servers: [Int: Placement], completion: @escaping @Sendable (DrainOutcome) -> Void) {
        state = Mutex(State(busy: Dictionary(uniqueKeysWithValues: workers.map { ($0, Set<Int>?.none) })))
        self.servers = servers
        self.completion = completion
    }

    func initial(worker: Int, busy: Set<Int>) {
        finishIf { s in
            // An idle report can't precede the initial one (same loop, in order).
            s.busy[worker] = busy
        }
    }

    func idle(worker: Int, server: Int) {
        finishIf { s in
            if case .some(.some(var left)) = s.busy[worker] {
                left.remove(server)
                s.busy[worker] = left
            }
        }
    }

    /// The deadline passed: completes with what is still busy, if not done.
    func expire() {
        let busy = state.withLock { s -> Set<Int>? in
            guard !s.done else { return nil }
            s.done = true
            var ids = Set<Int>()
            for (_, b) in s.busy { ids.formUnion(b ?? Set(servers.keys)) }
            return ids
        }
        guard let busy else { return }
        completion(.timedOut(busy: busy.compactMap { servers[$0] }.sorted { $0.description < $1.description }))
    }

    private func finishIf(_ change: (inout State) -> Void) {
        let finished = state.withLock { s -> Bool in
            guard !s.done else { return false }
            change(&s)
            let allIdle = s.busy.values.allSatisfy { $0?.isEmpty == true }
            if allIdle { s.done = true }
            return allIdle
        }
        if finished { completion(.drained) }
    }
}

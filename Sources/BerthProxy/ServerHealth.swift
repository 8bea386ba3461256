import Logging
import Synchronization

/// Whether one upstream server may get requests, shared by every worker and
/// its active health checker. Workers read it with one atomic load per
/// candidate; only failures and active-check results take the lock.
public final class ServerHealth: Sendable {
    public let name: String
    private let up = Atomic<Bool>(true)
    /// Passive mark-down: skipped until this wall-clock millisecond.
    private let skipUntil = Atomic<Int>(0)
    private let passiveFailures = Atomic<Int>(0)
    private let counts = Mutex<(successes: Int, failures: Int)>((0, 0))
    private let logger: Logger

    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    /// Up by the active check and not passively skipped right now.
    @inline(__always) func isAvailable(nowMs: Int) -> Bool {
        up.load(ordering: .relaxed) && skipUntil.load(ordering: .relaxed) <= nowMs
    }

    /// For metrics: up by the active check and not passively skipped.
    public var isUp: Bool { isAvailable(nowMs: WallClock.milliseconds) }

    /// An active check's outcome: `fall` failures in a row mark it down, `rise` successes up.
    func activeResult(ok: Bool, reason: String, rise: Int, fall: Int) {
        counts.withLock { c in
            if ok {
                c.successes += 1
                c.failures = 0
                if !up.load(ordering: .relaxed) && c.successes >= rise {
                    up.store(true, ordering: .relaxed)
                    skipUntil.store(0, ordering: .relaxed)
                    logger.notice("upstream server up", metadata: ["server": "\(name)", "check": "\(reason)", "successes": "\(c.successes)"])
                }
            } else {
                c.failures += 1
                c.successes = 0
                if up.load(ordering: .relaxed) && c.failures >= fall {
                    up.store(false, ordering: .relaxed)
                    logger.warning("upstream server down", metadata: ["server": "\(name)", "check": "\(reason)", "failures": "\(c.failures)"])
                }
            }
        }
    }

    /// A connect error or 5xx seen by a worker: `fall` in a row skip the server for `holdMs`.
    func passiveFailure(reason: String, fall: Int, holdMs: Int) {
        let n = passiveFailures.add(1, ordering: .relaxed).newValue
        guard n >= fall else { return }
        passiveFailures.store(0, ordering: .relaxed)
        skipUntil.store(WallClock.milliseconds + holdMs, ordering: .relaxed)
        logger.warning("upstream server skipped", metadata: ["server": "\(name)", "reason": "\(reason)",
                                                              "failures": "\(n)", "for_ms": "\(holdMs)"])
    }

    /// A good answer: the passive failure streak is over.
    @inline(__always) func passiveSuccess() {
        if passiveFailures.load(ordering: .relaxed) != 0 { passiveFailures.store(0, ordering: .relaxed) }
    }
}

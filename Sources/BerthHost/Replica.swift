import BerthConfig
import BerthRouting
import BerthRuntime
import BerthThreads
import Foundation
import Synchronization

/// One running container of one version of an app, and its readiness gate:
/// each time the container (re)starts, in a new network namespace, the gate
/// probes it through the data plane (the app's health check, else its port)
/// and only then is it routed. When it exits it stops being routed until it
/// passes again.
final class Replica: @unchecked Sendable {
    let app: String
    let number: Int
    /// nil for a worker: ready as soon as it runs, never routed.
    let port: Int?
    let isolated: Bool
    let health: HealthCheck?
    let process: any ReplicaProcess
    private let prober: any DataPlane
    /// Told whenever the container starts or exits and when it becomes routable.
    private let onChange: @Sendable (Replica) -> Void
    private let gate = Mutex<(ready: Bool, gating: Bool, placement: Placement?, lastProbe: String, stopped: Bool)>(
        (false, false, nil, "", false))
    private let stopping = NSLock()
    /// Signalled each time the gate passes (the first deploy waits on it).
    private let passed = DispatchSemaphore(value: 0)
    /// Its `link`s, opened in each run's namespace as the run starts.
    let links: [LinkListen]
    private let openLinks = Mutex<LinkHandle?>(nil)

    /// `makeProcess` gets the callback the process calls when it starts or exits.
    init(app: String, number: Int, port: Int?, isolated: Bool, health: HealthCheck?, prober: any DataPlane,
         links: [LinkListen] = [],
         makeProcess: (@escaping @Sendable () -> Void) throws -> any ReplicaProcess,
         onChange: @escaping @Sendable (Replica) -> Void) throws {
        self.app = app
        self.number = number
        self.port = port
        self.isolated = isolated
        self.health = health
        self.prober = prober
        self.links = links
        self.onChange = onChange
        // Weak: the supervisor must not keep its replica alive. Set before
        // start(), which is the only way the callback can run.
        let ref = WeakReplica()
        process = try makeProcess({ ref.replica?.containerChanged() })
        ref.replica = self
    }

    /// Where the proxy reaches it, while it is routable.
    var placement: Placement? { gate.withLock { $0.ready ? $0.placement : nil } }
    var isReady: Bool { gate.withLock { $0.ready } }
    /// Being stopped (no longer routed, not restarted).
    var isStopping: Bool { gate.withLock { $0.stopped } }
    var lastProbe: String { gate.withLock { $0.lastProbe } }

    /// Starts the container, unless it was stopped first (serve stopping
    /// while this replica was being made).
    func start() throws {
        stopping.lock()
        defer { stopping.unlock() }
        guard !isStopping else { throw RuntimeError("berth is stopping") }
        try process.start()
    }

    /// The container's init process, while it runs.
    private var pid: Int32? { process.status.pid }

    /// Waits until the gate first passes; false after `timeout`.
    func waitReady(timeout: Double) -> Bool {
        if isReady { return true }
        return passed.wait(timeout: .now() + timeout) == .success || isReady
    }

    /// Stops routing to it, then stops the container and removes its files.
    /// A second caller waits for the first to finish.
    func stop(grace: Double) {
        stopping.lock()
        defer { stopping.unlock() }
        let (first, was) = gate.withLock { g -> (Bool, Bool) in
            defer {
                g.stopped = true
                g.ready = false
            }
            return (!g.stopped, g.ready)
        }
        guard first else { return }
        if was { onChange(self) }
        process.stop(grace: grace)
        relink(pid: nil)
    }

    /// Closes the last run's links and, for a new run, opens them in its
    /// namespace (as soon as the supervisor sees it start: an app that
    /// connects in its very first milliseconds may find the port closed and
    /// must retry, as with any service that is still starting).
    private func relink(pid: Int32?) {
        guard !links.isEmpty else { return }
        openLinks.withLock { handle in
            if let h = handle { prober.closeLinks(h) }
            handle = nil
            guard let pid else { return }
            do {
                handle = try prober.openLinks(links, in: isolated ? "/proc/\(pid)/ns/net" : nil)
            } catch {
                gate.withLock { $0.lastProbe = "links not opened: \(error)" }
            }
        }
    }

    /// The supervisor saw the container start or exit.
    private func containerChanged() {
        let pid = self.pid
        relink(pid: isStopping ? nil : pid)
        let startGate = gate.withLock { g -> Bool in
            g.ready = false
            guard let pid, !g.stopped else { return false }
            g.placement = placement(ofRun: pid)
            if port == nil && health?.command == nil {
                // A worker passes its gate by running.
                g.ready = true
                g.lastProbe = "running (a worker: no port to check)"
                return false
            }
            if g.gating { return false }
            g.gating = true
            return true
        }
        onChange(self)
        if port == nil && isReady { passed.signal() }
        guard startGate else { return }
        do {
            try OSThread.detach { [self] in runGate() }
        } catch {
            gate.withLock {
                $0.gating = false
                $0.lastProbe = "gate not started: \(error)"
            }
        }
    }

    /// Where the run whose init is `pid` listens (nil for a worker).
    private func placement(ofRun pid: Int32) -> Placement? {
        guard let port else { return nil }
        return Placement(netns: isolated ? "/proc/\(pid)/ns/net" : nil, port: port)
    }

    /// Probes the current run until it passes, exits or is stopped.
    private func runGate() {
        if let h = health, let command = h.command {
            runExecChecks(command, h)
        } else {
            runProbeGate()
        }
        gate.withLock { $0.gating = false }
        // A restart that happened while this gate was finishing gets its own gate.
        if pid != nil && !isReady && !gate.withLock({ $0.stopped }) { containerChanged() }
    }

    /// `health exec`: the command inside the container until it passes (the
    /// gate), then every interval for as long as this run lasts: `fall`
    /// failures in a row take the replica out of routing, `rise` passes in a
    /// row bring it back.
    private func runExecChecks(_ command: [String], _ h: HealthCheck) {
        guard let run = pid else { return }
        var interval = 0.05
        var fails = 0, passes = 0, gated = false
        while gate.withLock({ !$0.stopped }), pid == run {
            let status = process.exec(command, timeout: h.timeout)
            guard pid == run else { return }
            let ok = status == 0
            let changed = gate.withLock { g -> Bool in
                g.lastProbe = "exec \(command.joined(separator: " ")): " + (status.map { "exit \($0)" } ?? "no answer within \(h.timeout)s")
                guard !g.stopped else { return false }
                if ok { (passes, fails) = (passes + 1, 0) } else { (passes, fails) = (0, fails + 1) }
                if !g.ready && ok && (!gated || passes >= h.rise) { g.ready = true; return true }
                if g.ready && !ok && fails >= h.fall { g.ready = false; return true }
                return false
            }
            if changed {
                if !gated { passed.signal() }
                gated = true
                onChange(self)
            }
            Thread.sleep(forTimeInterval: gated ? h.interval : interval)
            interval = min(interval * 2, min(h.interval, 0.5))
        }
    }

    /// Probes the current run through the data plane until it passes, exits or is stopped.
    private func runProbeGate() {
        // Quick at first (a fresh process binds its port within milliseconds),
        // then backing off to the health interval, at most 0.2 s.
        var interval = 0.005
        let longest = min(health?.interval ?? 0.2, 0.2)
        while true {
            let target = gate.withLock { $0.stopped ? nil : $0.placement }
            guard let target, pid != nil else { break }
            let probe = prober.probe(target, health: health, timeout: health?.timeout ?? 1)
            // Still the run that was probed (not one restarted meanwhile)?
            let current = pid.map(placement(ofRun:))
            let passedNow = gate.withLock { g -> Bool in
                g.lastProbe = probe.detail
                guard probe.passed, !g.stopped, current == target else { return false }
                g.ready = true
                return true
            }
            if passedNow {
                passed.signal()
                onChange(self)
                break
            }
            Thread.sleep(forTimeInterval: interval)
            interval = min(interval * 2, longest)
        }
    }
}

/// The supervisor's way back to its replica without owning it.
private final class WeakReplica: @unchecked Sendable {
    weak var replica: Replica?
}

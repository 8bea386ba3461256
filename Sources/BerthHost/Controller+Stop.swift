import BerthRouting
import Foundation

extension Controller {
    /// Serve is stopping: the data plane stops accepting and finishes what is
    /// in flight (up to `drainTimeout`), then every replica stops (stop
    /// signal, SIGKILL after `stopGrace`). True when the drain finished in time.
    public func stop(drainTimeout: Double) -> Bool {
        state.withLock { $0.lifecycle = .stopping }
        let clean = dataPlane.drainAll(timeout: drainTimeout)
        stopAll(grace: stopGrace)
        return clean
    }

    /// Stops every replica (stop signal, SIGKILL after `grace`) and removes
    /// its files. A `grace` of 0 kills at once, even replicas another call is
    /// already stopping; every caller returns only when all are gone.
    public func stopAll(grace: Double) {
        // Not under `control`: a start or reload may be in a long build; it
        // sees `stopping` and starts nothing more. Every replica — live,
        // draining, or mid-deploy — is registered, so one pass stops them all.
        let all = state.withLock { s -> [Replica] in
            s.lifecycle = .stopping
            for name in Array(s.apps.keys) { _ = s.apps[name]!.remove() }
            return Array(s.replicas.values)
        }
        if grace <= 0 { for r in all { r.process.kill() } }
        inParallel(all.count) { all[$0].stop(grace: grace) }
        state.withLock { s in
            s.replicas.removeAll()
            s.apps.removeAll()
        }
        writeStatus()
    }

    /// Serve exits leaving its containers running under their keepers (an
    /// upgrade handed them over): every replica stops being watched, none is stopped.
    public func detachAll() {
        let all = state.withLock { s -> [Replica] in
            s.lifecycle = .stopping
            return Array(s.replicas.values)
        }
        for r in all { r.process.detach() }
    }

    /// A takeover that failed: the replicas adopted from the serve that goes
    /// on are left to it; those this one started are stopped.
    public func abandon() {
        let all = state.withLock { s -> [Replica] in
            s.lifecycle = .stopping
            return Array(s.replicas.values)
        }
        for r in all where r.process.isAdopted { r.process.detach() }
        let own = all.filter { !$0.process.isAdopted }
        inParallel(own.count) { own[$0].stop(grace: 1) }
    }
}

import BerthRuntime
import Foundation

extension Controller {
    /// What every replica is doing, for `berth ps`.
    public func status() -> [ReplicaStatus] {
        let (apps, every) = state.withLock { ($0.apps, Array($0.replicas.values)) }
        var out: [ReplicaStatus] = []
        var seen = Set<ObjectIdentifier>()
        func add(_ r: Replica, _ version: ReplicaStatus.Version, image: String) {
            guard seen.insert(ObjectIdentifier(r)).inserted else { return }
            let s = r.process.status
            let stopping = r.isStopping && s.state != .stopped
            let state: ReplicaStatus.State = stopping ? .stopping
                : s.crashLooping && s.state != .running ? .crashLoop : ReplicaStatus.State(s.state)
            let health: ReplicaStatus.Health = r.isReady ? .healthy : stopping || s.pid == nil ? .none : .checking
            out.append(ReplicaStatus(version: version, app: r.app, replica: r.number, container: r.process.id,
                                     image: String(image.prefix(12)), state: state, health: health,
                                     since: s.since?.timeIntervalSince1970, restarts: s.restarts, lastExit: s.lastExit,
                                     log: r.process.logPath))
        }
        for (_, m) in apps.sorted(by: { $0.key < $1.key }) {
            if let d = m.live { d.replicas.forEach { add($0, .live, image: d.imageID) } }
        }
        for (_, m) in apps.sorted(by: { $0.key < $1.key }) {
            for d in m.draining { d.replicas.forEach { add($0, .old, image: d.imageID) } }
        }
        for r in every.sorted(by: { ($0.app, $0.number) < ($1.app, $1.number) }) { add(r, .new, image: "") }
        return out
    }

    /// Writes the status file as serve starts (no replica yet), so a stale
    /// one from an earlier serve is never read, and reloads that change no
    /// replica write nothing.
    public func writeInitialStatus() { writeStatus() }

    /// Rewrites the status file; a failed write is logged (once per error).
    func writeStatus() {
        guard let statusFile else { return }
        statusWriting.lock()
        defer { statusWriting.unlock() }
        let now = status()
        // Unchanged since the last write (a reload of routes only): nothing to do.
        if state.withLock({ $0.statusWritten == now }) { return }
        do {
            try ReplicaStatus.write(now, to: statusFile)
            state.withLock {
                $0.statusWriteError = nil
                $0.statusWritten = now
            }
        } catch {
            let text = "\(error)"
            let first = state.withLock { s -> Bool in
                defer { s.statusWriteError = text }
                return s.statusWriteError != text
            }
            if first { logger.error("berth ps status not written", metadata: ["file": "\(statusFile)", "error": "\(text)"]) }
        }
    }

    /// Logs a replica that keeps exiting soon after it starts.
    func noteCrashLoop(_ r: Replica) {
        let s = r.process.status
        guard s.state == .backingOff, s.crashLooping, s.quickExits == 4 || s.quickExits % 10 == 0 else { return }
        output("[run]   \(r.app)  replica \(r.number) is crash-looping: exited \(s.quickExits) times in a row"
               + " (last status \(s.lastExit ?? -1)); restarting with backoff; log: \(r.process.logPath)")
        logger.error("crash loop", metadata: ["app": "\(r.app)", "replica": "\(r.number)", "exits": "\(s.quickExits)"])
    }
}

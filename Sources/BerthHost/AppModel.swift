import BerthRouting

/// One app's typed model in the control plane: its phase, and its old
/// versions that are draining before they stop. Its transitions are the only
/// way the phase changes; each says whether it applied (a transition from
/// the wrong phase changes nothing and returns false).
struct AppModel {
    private(set) var phase: AppPhase = .starting
    /// Old versions waiting for their in-flight exchanges, then stopped.
    private(set) var draining: [Deployment] = []

    /// What the data plane does with the app's requests now.
    var routing: AppRouting {
        switch phase {
        case .starting: return .starting
        case .failed(let why): return .failed(reason: why)
        case .live(let d), .redeploying(let d): return .ready(d.placements)
        case .stopping: return .failed(reason: "stopping")
        }
    }

    /// The routed version, if any.
    var live: Deployment? {
        switch phase {
        case .live(let d), .redeploying(let d): return d
        case .starting, .failed, .stopping: return nil
        }
    }

    /// starting → live: the first version passed its gate.
    mutating func firstVersionStarted(_ d: Deployment) -> Bool {
        guard case .starting = phase else { return false }
        phase = .live(d)
        return true
    }

    /// starting → failed.
    mutating func firstVersionFailed(_ reason: String) -> Bool {
        guard case .starting = phase else { return false }
        phase = .failed(reason: reason)
        return true
    }

    /// live → redeploying; failed → starting (a reload tries again);
    /// stopping → starting (a reload adds back an app it had dropped, whose
    /// old version may still be draining).
    mutating func beginRedeploy() -> Bool {
        switch phase {
        case .live(let d): phase = .redeploying(live: d)
        case .failed, .stopping: phase = .starting
        case .starting, .redeploying: return false
        }
        return true
    }

    /// redeploying → live(new): the routes switched; the old version drains.
    /// Returns the old version.
    mutating func switched(to new: Deployment) -> Deployment? {
        guard case .redeploying(let old) = phase else { return nil }
        phase = .live(new)
        draining.append(old)
        return old
    }

    /// redeploying → live(old): the new version failed, or its switch did.
    /// starting, failed or stopping → failed: the same for an app with no
    /// routed version (its 503 says the latest reason).
    mutating func rolledBack(_ reason: String) -> Bool {
        switch phase {
        case .redeploying(let old): phase = .live(old)
        case .starting, .failed, .stopping: phase = .failed(reason: reason)
        case .live: return false
        }
        return true
    }

    /// starting → live(new): an app with no routed version got its first
    /// one through a reload.
    mutating func added(_ new: Deployment) -> Bool {
        guard case .starting = phase else { return false }
        phase = .live(new)
        return true
    }

    /// any → stopping: every version drains. Returns what newly drains.
    mutating func remove() -> [Deployment] {
        let live = self.live
        phase = .stopping
        if let live { draining.append(live) }
        return live.map { [$0] } ?? []
    }

    /// A draining version stopped.
    mutating func stopped(_ d: Deployment) {
        draining.removeAll { $0 === d }
    }

    /// Nothing left to keep: stopping with no version draining.
    var isGone: Bool {
        if case .stopping = phase { return draining.isEmpty }
        return false
    }
}

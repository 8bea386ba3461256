/// What the data plane does with a request for a container app: hold it
/// while the app's first version starts, answer 503 at once when it could not
/// start, or balance over the replicas that passed their gate. (An app that is
/// ready with no replica routable right now — its only one restarting — holds
/// requests too, up to `timeouts start`.)
public enum AppRouting: Sendable, Hashable {
    case starting
    case failed(reason: String)
    case ready([Placement])

    /// The replicas to route to (none while starting or failed).
    public var placements: [Placement] {
        if case .ready(let p) = self { return p }
        return []
    }
}

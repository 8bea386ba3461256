/// How waiting for a set of replicas to have no request in flight ended.
public enum DrainOutcome: Sendable, Equatable {
    /// No worker has an exchange (nor, when they are counted, a tunnel) on any of them.
    case drained
    /// The deadline passed; these still had exchanges in flight, or were on a
    /// worker that never answered.
    case timedOut(busy: [Placement])
}

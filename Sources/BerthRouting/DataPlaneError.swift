/// Why the data plane did not take a new config or routing. Either way the
/// previous one stays in force on every worker.
public enum DataPlaneError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config cannot be served (a listener does not bind, a certificate
    /// does not load, an address is invalid): nothing was sent to the workers.
    case rejected(String)
    /// A worker did not acknowledge the switch within `seconds`; the workers
    /// that had switched were switched back.
    case workerDidNotAcknowledge(worker: Int, seconds: Double)
    /// The data plane is stopping and takes no more changes.
    case stopping

    public var description: String {
        switch self {
        case .rejected(let why): return why
        case .workerDidNotAcknowledge(let w, let s):
            return "worker \(w) did not acknowledge the new route table within \(s)s; the previous one stays in force"
        case .stopping: return "the proxy is stopping"
        }
    }
}

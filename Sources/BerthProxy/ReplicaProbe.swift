import BerthConfig

/// The readiness gate the control plane runs before it routes to a new
/// replica: the app's `health` request when it has one (2xx/3xx passes),
/// else a TCP connect to its port — inside the replica's network namespace.
public enum ReplicaProbe {
    /// One attempt; `(passed, what happened)`.
    public static func check(_ replica: Placement, health: HealthCheck?, timeout: Double = 1) -> (Bool, String) {
        let hp = HostPort(host: "127.0.0.1", port: replica.port)
        guard let address = try? SocketAddress(hp) else { return (false, "bad address \(hp)") }
        let netns: NetworkNamespace?
        do {
            netns = try replica.netns.map { try NetworkNamespace(path: $0) }
        } catch {
            return (false, "\(error)")
        }
        if let health {
            return HealthChecker.probe(address, in: netns, hostHeader: hp.description, check: health)
        }
        return NetworkNamespace.accepts(port: replica.port, in: netns, timeout: timeout)
            ? (true, "port \(replica.port) accepts") : (false, "port \(replica.port) refuses")
    }
}

import BerthConfig
import BerthRouting

/// The readiness gate the control plane asks for before it routes to a new
/// replica (`DataPlane.probe`): the app's `health` request when it has one
/// (2xx/3xx passes), else a TCP connect to its port — inside the replica's
/// network namespace, with the proxy's own socket code.
enum SocketReplicaProbe {
    /// One attempt.
    static func check(_ replica: Placement, health: HealthCheck?, timeout: Double) -> ProbeResult {
        let hp = HostPort(host: "127.0.0.1", port: replica.port)
        guard let address = try? SocketAddress(hp) else { return ProbeResult(passed: false, detail: "bad address \(hp)") }
        let netns: NetworkNamespace?
        do {
            netns = try replica.netns.map { try NetworkNamespace(path: $0) }
        } catch {
            return ProbeResult(passed: false, detail: "\(error)")
        }
        if let health {
            let (ok, what) = HealthChecker.probe(address, in: netns, hostHeader: hp.description, check: health)
            return ProbeResult(passed: ok, detail: what)
        }
        return NetworkNamespace.accepts(port: replica.port, in: netns, timeout: timeout)
            ? ProbeResult(passed: true, detail: "port \(replica.port) accepts")
            : ProbeResult(passed: false, detail: "port \(replica.port) refuses")
    }
}

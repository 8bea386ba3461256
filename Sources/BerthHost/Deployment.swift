import BerthConfig
import BerthRouting
import Dispatch

/// One version of one app: the settings and image it was started from and
/// its replicas. A redeploy starts a new Deployment beside the old one and
/// retires the old once the new one is routed.
final class Deployment: Sendable {
    let config: AppConfig
    let imageID: String
    let replicas: [Replica]

    init(config: AppConfig, imageID: String, replicas: [Replica]) {
        self.config = config
        self.imageID = imageID
        self.replicas = replicas
    }

    /// The replicas that passed their gate, where the proxy reaches them.
    var placements: [Placement] { replicas.compactMap(\.placement) }

    /// Whether `other` (a newly built image for `newConfig`) would run the
    /// same containers: same image, same container-shaping settings.
    func runsSame(as newConfig: AppConfig, imageID other: String) -> Bool {
        imageID == other && Self.containerSettings(config) == Self.containerSettings(newConfig)
    }

    /// The settings that shape containers (routing-only ones — path, host,
    /// strip-prefix, balance, health — change without a redeploy).
    static func containerSettings(_ a: AppConfig) -> [String] {
        [a.build ?? "", a.dockerfile ?? "", "\(a.port ?? 0)", "\(a.replicas)", a.network.rawValue,
         "\(a.memory ?? 0)", "\(a.cpus ?? 0)"] + a.env.map { "\($0.key)=\($0.value)" }
    }

    func stop(grace: Double) {
        let replicas = self.replicas
        inParallel(replicas.count) { replicas[$0].stop(grace: grace) }
    }
}

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
    /// same containers: same image, same container settings.
    func runsSame(as newConfig: AppConfig, imageID other: String) -> Bool {
        imageID == other && config.containerSettings == newConfig.containerSettings
    }

    func stop(grace: Double) {
        let replicas = self.replicas
        inParallel(replicas.count) { replicas[$0].stop(grace: grace) }
    }
}

import BerthConfig

/// Everything a route table is built from: the config (routes, upstream
/// apps' servers, settings) and, for each container app, its routing.
/// A container app missing from `apps` is treated as failed ("not deployed").
public struct RoutingInput: Sendable {
    public var config: Config
    public var apps: [String: AppRouting]
    /// `skew-retry` apps redeployed while their old version drains: the old
    /// version's replicas (a 404 from the new one is tried once there).
    public var previous: [String: [Placement]]

    public init(config: Config, apps: [String: AppRouting], previous: [String: [Placement]] = [:]) {
        self.config = config
        self.apps = apps
        self.previous = previous
    }

    /// The routing of `app` (a container app with no entry has failed).
    public func routing(of app: String) -> AppRouting {
        apps[app] ?? .failed(reason: "not deployed")
    }
}

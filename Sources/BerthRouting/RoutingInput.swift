import BerthConfig

/// Everything a route table is built from: the config (routes, upstream
/// apps' servers, settings) and, for each container app, its routing.
/// A container app missing from `apps` is treated as failed ("not deployed").
public struct RoutingInput: Sendable {
    public var config: Config
    public var apps: [String: AppRouting]

    public init(config: Config, apps: [String: AppRouting]) {
        self.config = config
        self.apps = apps
    }

    /// The routing of `app` (a container app with no entry has failed).
    public func routing(of app: String) -> AppRouting {
        apps[app] ?? .failed(reason: "not deployed")
    }
}

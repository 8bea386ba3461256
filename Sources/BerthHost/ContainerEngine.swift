import BerthConfig
import BerthRuntime

/// What the control plane needs from the machine to run apps: build an
/// app's image, and make a supervised process for one replica. The real one
/// (`RuncEngine`) builds with BerthImage and runs runc; tests use a fake, so
/// deploys, redeploys and rollbacks can be tested without containers.
public protocol ContainerEngine: Sendable {
    /// The OCI runtime in use (after any fallback), for logs.
    var runtime: String { get }

    /// Builds `app`'s image (cached) from the context under `base`, with each
    /// progress line to `progress`; returns the image id.
    func build(_ app: AppConfig, base: String, progress: @escaping @Sendable (String) -> Void) throws -> String

    /// A not-yet-started process for replica `number` of `app`, version
    /// `version`, from `imageID`, with `env` added to the app's. `onChange`
    /// is called (on any thread) when it starts running or exits.
    func makeProcess(_ app: AppConfig, number: Int, version: Int, imageID: String, env: [String],
                     onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess

    /// Removes what an earlier serve left behind; returns the container ids.
    func cleanLeftovers() -> [String]

    /// The image's own HEALTHCHECK as a `health exec` (nil: none, or NONE),
    /// for apps whose config names no `health`.
    func imageHealth(_ imageID: String) -> HealthCheck?
}

extension ContainerEngine {
    public func imageHealth(_ imageID: String) -> HealthCheck? { nil }
}

/// One replica's supervised container, as the control plane sees it: start
/// it, read its status, stop it (and remove its files).
public protocol ReplicaProcess: AnyObject, Sendable {
    /// The container id, for `berth ps`.
    var id: String { get }
    var logPath: String { get }
    var status: SupervisedContainer.Status { get }
    /// Starts it, restarted with backoff when it exits, until `stop`.
    func start() throws
    /// The stop signal, SIGKILL after `grace` seconds, then its files removed.
    func stop(grace: Double)
    /// SIGKILL now (a second stop signal to serve).
    func kill()
    /// Runs `args` inside the running container (`health exec`): its exit
    /// status, nil when it did not finish within `timeout`.
    func exec(_ args: [String], timeout: Double) -> Int32?
}

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

    /// What an earlier serve left: the replicas still running under their
    /// keepers (to adopt or stop), after removing everything else it left
    /// (containers without a keeper, mounts, directories), whose ids are `removed`.
    func takeOver() -> (survivors: [Survivor], removed: [String])

    /// A process for `survivor`, adopted as it runs (`start` watches it).
    func adopt(_ survivor: Survivor, onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess

    /// Stops a survivor no app wants and removes its files.
    func discard(_ survivor: Survivor)

    /// The image's own HEALTHCHECK as a `health exec` (nil: none, or NONE),
    /// for apps whose config names no `health`.
    func imageHealth(_ imageID: String) -> HealthCheck?
}

extension ContainerEngine {
    public func imageHealth(_ imageID: String) -> HealthCheck? { nil }
    public func takeOver() -> (survivors: [Survivor], removed: [String]) { ([], []) }
    public func adopt(_ survivor: Survivor, onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess {
        throw RuntimeError("this engine adopts no containers")
    }
    public func discard(_ survivor: Survivor) {}
}

/// One replica's supervised container, as the control plane sees it: start
/// it, read its status, stop it (and remove its files).
public protocol ReplicaProcess: AnyObject, Sendable {
    /// The container id, for `berth ps`.
    var id: String { get }
    var logPath: String { get }
    var status: SupervisedContainer.Status { get }
    /// Starts it (or, adopted, starts watching it), restarted with backoff when it exits, until `stop`.
    func start() throws
    /// The stop signal, SIGKILL after `grace` seconds, then its files removed.
    func stop(grace: Double)
    /// SIGKILL now (a second stop signal to serve).
    func kill()
    /// Runs `args` inside the running container (`health exec`): its exit
    /// status, nil when it did not finish within `timeout`.
    func exec(_ args: [String], timeout: Double) -> Int32?
    /// Stops watching it and leaves it running (serve exiting for an
    /// upgrade, or for a later serve to adopt).
    func detach()
    /// Adopted from an earlier serve (not started by this one).
    var isAdopted: Bool { get }
}

extension ReplicaProcess {
    public func detach() {}
    public var isAdopted: Bool { false }
}

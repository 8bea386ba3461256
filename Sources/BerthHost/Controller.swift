import BerthConfig
import BerthRouting
import BerthRuntime
import Foundation
import Logging
import Synchronization

/// The control plane of `berth serve`: turns a `Config` into images,
/// supervised replicas and routing, through a `ContainerEngine` (the
/// machine) and a `DataPlane` (the proxy). Each app is an `AppModel`; the
/// first start, reloads (blue-green redeploys with rollback), drains and
/// stops are its transitions. One start, reload or stop runs at a time.
public final class Controller: @unchecked Sendable {
    let dataPlane: any DataPlane
    let logger: Logger
    let output: @Sendable (String) -> Void
    /// Seconds a stopping replica gets between its stop signal and SIGKILL.
    public var stopGrace = 10.0
    /// Where `berth ps` reads the replicas' status (written on every change).
    public var statusFile: String?

    struct State {
        var lifecycle = ControllerLifecycle.serving
        /// Every container app of the config in force, by name.
        var apps: [String: AppModel] = [:]
        /// Every replica started and not yet stopped, in any version (an
        /// urgent stop kills them all, even mid-deploy).
        var replicas: [ObjectIdentifier: Replica] = [:]
        /// Numbers each deploy's containers.
        var versions = 0
        /// The engine, made on first need.
        var engine: (any ContainerEngine)?
        /// The last status-file write error (logged once until it changes).
        var statusWriteError: String?
        /// What the status file holds now (nil: not written yet).
        var statusWritten: [ReplicaStatus]?
        /// Replicas an earlier serve left running, not yet adopted (the first
        /// start adopts those that match and stops the rest).
        var survivors: [Survivor] = []
    }

    let state = Mutex(State())
    /// The config in force (the one the data plane serves).
    let configInForce: Mutex<Config>
    private let makeEngine: @Sendable () throws -> any ContainerEngine
    /// One start, reload or stop at a time.
    let control = NSLock()
    /// Making the engine (and cleaning leftovers) happens once.
    private let engineLock = NSLock()
    /// One status-file write at a time (they come from many threads).
    let statusWriting = NSLock()
    /// A routing update the data plane refused is retried once this is set.
    let retryScheduled = Mutex(false)
    /// Routing updates and switches reach the data plane one at a time, in order.
    let publishing = NSLock()

    /// `config` is the one the data plane was started with (its container
    /// apps routed as `initialRouting(config)`); `engine` is called once, when
    /// a container app first needs it.
    public init(config: Config, dataPlane: any DataPlane, engine: @escaping @Sendable () throws -> any ContainerEngine,
                logger: Logger, output: @escaping @Sendable (String) -> Void) {
        self.dataPlane = dataPlane
        self.makeEngine = engine
        self.logger = logger
        self.output = output
        configInForce = Mutex(config)
    }

    /// How the data plane routes `config`'s container apps before `start`:
    /// all starting (their requests are held).
    public static func initialRouting(_ config: Config) -> [String: AppRouting] {
        Dictionary(uniqueKeysWithValues: containerApps(config).map { ($0.name, AppRouting.starting) })
    }

    static func containerApps(_ config: Config) -> [AppConfig] {
        config.apps.filter(\.runsContainers)
    }

    /// The engine, made on first use; what an earlier serve left is taken
    /// over before anyone gets it (so no new container is mistaken for one):
    /// its running replicas kept to adopt, the rest removed.
    func engine() throws -> any ContainerEngine {
        try engineLock.withLock {
            if let e = state.withLock({ $0.engine }) { return e }
            let e = try makeEngine()
            let (survivors, removed) = e.takeOver()
            if !removed.isEmpty {
                output("[run]   removed \(removed.count) container(s) left by an earlier serve: \(removed.joined(separator: " "))")
            }
            state.withLock {
                $0.engine = e
                $0.survivors = survivors
                $0.versions = max($0.versions, survivors.map(\.version).max() ?? 0)
            }
            return e
        }
    }

    /// Takes the survivor that runs replica `n` of `app` from `imageID`, if any.
    func claimSurvivor(_ app: AppConfig, n: Int, imageID: String) -> Survivor? {
        state.withLock { s in
            guard let i = s.survivors.firstIndex(where: { $0.matches(app, number: n, imageID: imageID) }) else { return nil }
            return s.survivors.remove(at: i)
        }
    }

    /// Stops the survivors no app adopted (after the first start).
    public func discardSurvivors() {
        let (left, engine) = state.withLock { s in
            defer { s.survivors = [] }
            return (s.survivors, s.engine)
        }
        guard let engine, !left.isEmpty else { return }
        output("[run]   stopping \(left.count) container(s) of an earlier serve that the config no longer runs: \(left.map(\.id).joined(separator: " "))")
        inParallel(left.count) { engine.discard(left[$0]) }
    }

    /// The OCI runtime containers run with, once an engine was needed.
    public var runtime: String? { state.withLock { $0.engine?.runtime } }

    // MARK: - first start

    /// Builds and starts every container app of the config in parallel; each
    /// is routed as its replicas pass their gates. Returns the apps that
    /// failed (logged; the proxy answers 503 for them).
    /// An earlier serve's replicas that no app adopted are stopped at the
    /// end, unless `discardingSurvivors` is false (an upgrade: the old serve
    /// may still route to them; call `discardSurvivors` once it has exited).
    @discardableResult
    public func start(discardingSurvivors: Bool = true) -> [String: String] {
        control.lock()
        defer { control.unlock() }
        let config = configInForce.withLock { $0 }
        let apps = Self.containerApps(config)
        state.withLock { s in for a in apps { s.apps[a.name] = AppModel() } }
        let failures = Collected<String>()
        let order = StartOrder(starting: apps.map(\.name))
        inParallel(apps.count) { [self] i in
            let app = apps[i]
            do {
                // Builds run at once; deploys wait for the apps they link to.
                let imageID = try build(app, config: config, quiet: false).imageID
                let failedLinks = order.wait(for: app.links.map(\.app))
                if let (name, why) = failedLinks.first {
                    throw RuntimeError("its link \(name) did not start: \(why)")
                }
                let d = try deploy(app, imageID: imageID, startTimeout: config.timeouts.start)
                let ok = state.withLock { $0.apps[app.name]?.firstVersionStarted(d) ?? false }
                if !ok { stop(d) }
                publish()
                order.finished(app.name, error: ok ? nil : "berth is stopping")
            } catch {
                failures.add(app.name, "\(error)")
                order.finished(app.name, error: "\(error)")
                output("[run]   \(app.name)  failed: \(error)")
                logger.error("app failed to start", metadata: ["app": "\(app.name)", "error": "\(error)"])
                state.withLock { _ = $0.apps[app.name]?.firstVersionFailed("\(error)") }
                publish()
            }
        }
        if discardingSurvivors { discardSurvivors() }
        writeStatus()
        return failures.all
    }

    // MARK: - publishing

    /// Every container app's routing now.
    func routingNow() -> [String: AppRouting] {
        state.withLock { s in s.apps.mapValues(\.routing) }
    }

    /// The draining old versions' routable replicas of the `skew-retry` apps.
    func previousNow() -> [String: [Placement]] {
        state.withLock { s in
            var out: [String: [Placement]] = [:]
            for (name, m) in s.apps where m.live?.config.skewRetry == true {
                let p = m.draining.flatMap(\.placements)
                if !p.isEmpty { out[name] = p }
            }
            return out
        }
    }

    /// Sends the current routing to the data plane (in order with switches).
    /// One the data plane refuses (a worker late) is tried again in a second,
    /// so a replica that moved is never left unrouted.
    func publish() {
        let serving = { self.state.withLock { $0.lifecycle == .serving } }
        if serving() {
            publishing.withLock {
                guard serving() else { return }
                do {
                    try dataPlane.route(routingNow(), previous: previousNow())
                } catch {
                    logger.error("routing not updated: trying again in 1s", metadata: ["error": "\(error)"])
                    scheduleRetry()
                }
            }
        }
        writeStatus()
    }

    private func scheduleRetry() {
        let first = retryScheduled.withLock { scheduled -> Bool in
            defer { scheduled = true }
            return !scheduled
        }
        guard first else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) { [weak self] in
            guard let self else { return }
            retryScheduled.withLock { $0 = false }
            publish()
        }
    }
}

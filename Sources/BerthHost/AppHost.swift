import BerthConfig
import BerthImage
import BerthProxy
import BerthRuntime
import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The control plane for container apps: builds each `build` app's image,
/// runs its replicas supervised, routes to each replica once it passes its
/// gate, and on reload redeploys what changed blue-green (start the new
/// version, gate it, switch the routes, drain and stop the old).
public final class AppHost: @unchecked Sendable {
    let store: ImageStore
    let runc: Runc
    let logger: Logger
    let output: @Sendable (String) -> Void
    /// Seconds a stopping replica gets between its stop signal and SIGKILL.
    public var stopGrace = 10.0
    /// Where `berth ps` reads the replicas' status (written on every change).
    public var statusFile: String?
    /// Registries builds may pull from over plain HTTP (proxy.conf's `registry HOST insecure`).
    public var insecureRegistries: Set<String> = []
    private weak var target: RoutingTarget?
    /// Guards everything below.
    private let lock = NSLock()
    /// The routed version of each app.
    private var live: [String: Deployment] = [:]
    /// Apps whose first version is starting (their requests are held).
    private var starting: Set<String> = []
    /// Old versions draining before they stop.
    private var retiring: [Deployment] = []
    /// Every replica ever started and not yet stopped (for an urgent kill).
    private var everyReplica: [ObjectIdentifier: Replica] = [:]
    private var closed = false
    /// Publishing and switching versions happen one at a time, in order.
    private let publishing = NSLock()
    /// One start, redeploy or stop at a time.
    private let control = NSLock()
    private var versions = 0

    /// `runtime` is runc or crun; crun is probed first and replaced by runc
    /// (with a logged reason) when it cannot start a container here.
    public init(store: ImageStore, runtime: String = "runc", logger: Logger, output: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.logger = logger
        self.output = output
        var binary = runtime
        if runtime != "runc" {
            let (works, why) = RuntimeProbe.check(runtime, scratch: store.root + "/tmp")
            if !works {
                output("[run]   runtime \(runtime) cannot start containers here (\(why)); using runc")
                logger.warning("runtime fallback", metadata: ["wanted": "\(runtime)", "using": "runc", "reason": "\(why)"])
                binary = "runc"
            }
        }
        self.runc = Runc(binary: binary, stateRoot: store.root + "/runc")
    }

    /// The OCI runtime containers run with (after any fallback).
    public var runtime: String { runc.binary }

    /// Sends placements to `target` from now on.
    public func route(to target: RoutingTarget) {
        lock.withLock { self.target = target }
    }

    /// Removes containers and mounts an earlier serve left behind when it
    /// died without stopping them; returns their ids.
    @discardableResult
    public func cleanLeftovers() -> [String] {
        let ids = Leftovers(runc: runc, containersDir: store.root + "/containers", prefix: "berth-").clean()
        if !ids.isEmpty {
            output("[run]   removed \(ids.count) container(s) left by an earlier serve: \(ids.joined(separator: " "))")
        }
        return ids
    }

    /// Where every routed replica is, by app; an app whose first version is
    /// still starting is listed with none (the proxy holds its requests).
    public var placements: [String: [Placement]] {
        lock.withLock { placementsUnlocked() }
    }

    /// Every build app of `config`, listed as starting (before `start`).
    public static func startingPlacements(_ config: Config) -> [String: [Placement]] {
        Dictionary(uniqueKeysWithValues: config.apps.filter { $0.build != nil }.map { ($0.name, [Placement]()) })
    }

    // MARK: - first start

    /// Builds and starts every `build` app of `config` in parallel; each is
    /// routed as its replicas pass their gates. Returns the apps that failed
    /// (logged; the proxy answers 503 for them).
    @discardableResult
    public func start(_ config: Config) -> [String: String] {
        control.lock()
        defer { control.unlock() }
        let apps = config.apps.filter { $0.build != nil }
        lock.withLock { starting.formUnion(apps.map(\.name)) }
        let failures = Collected<String>()
        inParallel(apps.count) { [self] i in
            let app = apps[i]
            do {
                let (imageID, _) = try build(app, base: Self.base(of: config))
                let d = try deploy(app, imageID: imageID, startTimeout: config.timeouts.start)
                publishing.withLock {
                    lock.withLock {
                        live[app.name] = d
                        starting.remove(app.name)
                    }
                    sendPlacements()
                }
                writeStatus()
            } catch {
                lock.withLock { _ = starting.remove(app.name) }
                failures.add(app.name, "\(error)")
                output("[run]   \(app.name)  failed: \(error)")
                logger.error("app failed to start", metadata: ["app": "\(app.name)", "error": "\(error)"])
                publish()
            }
        }
        writeStatus()
        return failures.all
    }

    // MARK: - reload

    /// What a redeploy did.
    public struct RedeployReport: Sendable {
        /// Apps now running a new version (or newly added).
        public var deployed: [String] = []
        /// Apps whose containers were stopped because the config dropped them.
        public var removed: [String] = []
        /// Apps whose new version failed and that keep their old one (or none).
        public var failed: [String: String] = [:]
        /// The config the proxy got: the new one, with failed apps' old settings.
        public var config: Config
    }

    /// Redeploys what changed between the running apps and `config`:
    /// builds every build app (cached), starts and gates a new version of
    /// each changed one beside the old, then calls `apply` with the config
    /// and placements to route, retires the old versions (drained, then
    /// stopped) and the removed apps. A version that fails to build or to
    /// pass its gate is stopped and the old one keeps serving. If `apply`
    /// throws, every new version is stopped and nothing changes.
    public func redeploy(_ config: Config, apply: (Config, [String: [Placement]]) throws -> Void) throws -> RedeployReport {
        control.lock()
        defer { control.unlock() }
        let apps = config.apps.filter { $0.build != nil }
        let current = lock.withLock { live }
        var report = RedeployReport(config: config)
        let results = Collected<String>()
        let fresh = Collected<Deployment>()
        inParallel(apps.count) { [self] i in
            let app = apps[i]
            let old = current[app.name]
            do {
                let (imageID, buildLines) = try build(app, base: Self.base(of: config), quiet: old != nil)
                if let old, old.runsSame(as: app, imageID: imageID) { return }
                if old != nil { buildLines.forEach(output) }
                output("[run]   \(app.name)  starting version \(String(imageID.prefix(12)))" + (old == nil ? "" : " beside \(String(old!.imageID.prefix(12)))"))
                fresh.add(app.name, try deploy(app, imageID: imageID, startTimeout: config.timeouts.start))
            } catch {
                results.add(app.name, "\(error)")
                output("[run]   \(app.name)  new version failed, \(old == nil ? "not started" : "old version keeps serving"): \(error)")
                logger.error("redeploy failed: rolled back", metadata: ["app": "\(app.name)", "error": "\(error)"])
            }
        }
        report.failed = results.all
        // Failed apps keep their old settings (and containers) if they had some.
        var effective = config
        effective.apps = config.apps.map { app in
            guard report.failed[app.name] != nil, let old = current[app.name] else { return app }
            return old.config
        }
        report.config = effective
        let newVersions = fresh.all
        let wanted = Set(apps.map(\.name))
        let removed = current.filter { !wanted.contains($0.key) }
        var next = current.filter { wanted.contains($0.key) }
        for (name, d) in newVersions { next[name] = d }
        let placements = next.mapValues(\.placements)
        // Switch: the proxy gets the new routes while no other publish can interleave.
        do {
            try publishing.withLock {
                try apply(effective, placements)
                lock.withLock {
                    live = next
                    starting.subtract(removed.keys)
                }
            }
        } catch {
            for (_, d) in newVersions { stop(d) }
            throw error
        }
        report.deployed = newVersions.keys.sorted()
        report.removed = removed.keys.sorted()
        let old = newVersions.keys.compactMap { current[$0] } + removed.values
        if !old.isEmpty { retire(old, drainTimeout: config.timeouts.drain) }
        writeStatus()
        return report
    }

    /// Waits (in the background) until no request is in progress on the old
    /// versions' replicas, or `drainTimeout`, then stops them.
    private func retire(_ old: [Deployment], drainTimeout: Double) {
        lock.withLock { retiring += old }
        let target = lock.withLock { self.target }
        DispatchQueue.global().async { [self] in
            let replicas = old.flatMap(\.replicas).compactMap(\.placement)
            let end = Date().addingTimeInterval(drainTimeout)
            while let target, Date() < end, target.busyExchanges(on: replicas) > 0 {
                usleep(50_000)
            }
            for d in old {
                output("[run]   \(d.config.name)  stopping old version \(String(d.imageID.prefix(12)))")
                stop(d)
            }
            lock.withLock { retiring.removeAll { r in old.contains { $0 === r } } }
            writeStatus()
        }
    }

    // MARK: - stopping

    /// Stops every replica (stop signal, SIGKILL after `grace`) and removes
    /// its files. A `grace` of 0 kills at once, even replicas another call is
    /// already stopping; every caller returns only when all are gone.
    public func stopAll(grace: Double) {
        if grace <= 0 {
            for r in lock.withLock({ Array(everyReplica.values) }) { r.supervised.container.kill("KILL") }
        }
        // Not under `control`: a start or redeploy may be in a long build;
        // it sees `closed` and starts nothing more. Every replica — live,
        // draining, or mid-deploy — is registered, so one pass stops them all.
        let all = lock.withLock { () -> [Replica] in
            closed = true
            live.removeAll()
            retiring.removeAll()
            return Array(everyReplica.values)
        }
        inParallel(all.count) { all[$0].stop(grace: grace) }
        lock.withLock { everyReplica.removeAll() }
        writeStatus()
    }

    private func stop(_ d: Deployment) {
        d.stop(grace: stopGrace)
        lock.withLock { for r in d.replicas { everyReplica[ObjectIdentifier(r)] = nil } }
    }

    // MARK: - building and starting

    static func base(of config: Config) -> String {
        let b = (config.file as NSString).deletingLastPathComponent
        return b.isEmpty ? "." : b
    }

    /// Builds `app`'s image (cached); its progress lines are printed, or
    /// returned instead when `quiet` (a reload prints them only for a change).
    private func build(_ app: AppConfig, base: String, quiet: Bool = false) throws -> (String, [String]) {
        let context = app.build!.hasPrefix("/") ? app.build! : base + "/" + app.build!
        var opts = BuildOptions(context: context)
        opts.dockerfile = app.dockerfile.map { $0.hasPrefix("/") ? $0 : context + "/" + $0 }
        opts.tag = "berth/\(app.name):latest"
        opts.insecureRegistries = insecureRegistries
        let lines = Collected<String>()
        let out = output
        let id = try Builder(store: store, output: { line in
            let l = "[build] \(app.name)  \(line)"
            if quiet { lines.append(l) } else { out(l) }
        }).build(opts)
        return (id, lines.ordered)
    }

    /// Starts `app`'s replicas from `imageID` and waits until every one has
    /// passed its gate; on failure stops those it started.
    private func deploy(_ app: AppConfig, imageID: String, startTimeout: Double) throws -> Deployment {
        guard let image = store.image(imageID) else { throw StoreError("image \(imageID) vanished") }
        let version = lock.withLock { () -> Int in
            versions += 1
            return versions
        }
        var replicas: [Replica] = []
        do {
            for n in 1...app.replicas {
                let started = Date()  // the figure includes the overlay mount and the bundle
                let r = try makeReplica(app, n: n, version: version, image: image)
                replicas.append(r)
                r.start()
                guard r.waitReady(timeout: startTimeout) else {
                    throw RuntimeError("\(app.name) replica \(n) did not pass its \(app.health == nil ? "port check" : "health check") within \(startTimeout)s"
                                       + " (last: \(r.lastProbe.isEmpty ? "container not running" : r.lastProbe); log: \(r.supervised.logPath))")
                }
                output(String(format: "[run]   %@  started %d/%d (container %@), healthy in %.0fms", app.name, n, app.replicas,
                              String(r.supervised.container.id.split(separator: "-").last ?? ""), Date().timeIntervalSince(started) * 1000))
            }
        } catch {
            // Half an app is not started: stop what did start.
            for r in replicas {
                r.stop(grace: 1)
                lock.withLock { everyReplica[ObjectIdentifier(r)] = nil }
            }
            throw error
        }
        return Deployment(config: app, imageID: imageID, replicas: replicas)
    }

    private func makeReplica(_ app: AppConfig, n: Int, version: Int, image: ImageStore.Image) throws -> Replica {
        var port = app.port ?? 8000
        var env = app.env.map { "\($0.key)=\($0.value)" }
        if app.network == .host {
            port = Self.freePort()
            env.append("PORT=\(port)")
        }
        let process = try store.process(for: image, command: [], env: env)
        let id = "berth-\(app.name)-\(n)-v\(version)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let container = try Container(id: id, dir: store.root + "/containers/" + id,
                                      layers: image.layers.map { store.layerPath($0) }, process: process,
                                      hostname: "\(app.name)-\(n)", network: app.network == .host ? .host : .isolated,
                                      limits: ResourceLimits(memory: app.memory, cpus: app.cpus), runc: runc)
        mkdir(store.root + "/logs", 0o755)
        let r = Replica(app: app.name, number: n, port: port, isolated: app.network != .host, health: app.health,
                        container: container, logPath: store.root + "/logs/\(app.name)-\(n).log",
                        onChange: { [weak self] r in
                            self?.noteCrashLoop(r)
                            self?.publish()
                        })
        // Registered under the lock stopAll sets `closed` with: it either
        // sees this replica or this refuses to start it.
        lock.lock()
        defer { lock.unlock() }
        if closed { throw RuntimeError("berth is stopping") }
        everyReplica[ObjectIdentifier(r)] = r
        return r
    }

    // MARK: - publishing

    /// Sends the current placements to the proxy (in order with switches).
    func publish() {
        publishing.withLock { sendPlacements() }
        writeStatus()
    }

    /// Call with `publishing` held.
    private func sendPlacements() {
        let (target, p) = lock.withLock { (self.target, closed ? nil : placementsUnlocked()) }
        if let target, let p { target.updatePlacements(p) }
    }

    private func placementsUnlocked() -> [String: [Placement]] {
        var p = live.mapValues(\.placements)
        for name in starting where p[name] == nil { p[name] = [] }
        return p
    }

    static func freePort() -> Int { LoopbackPort.free() }
}

extension AppHost {
    /// What every replica is doing, for `berth ps`.
    public func status() -> [ReplicaStatus] {
        let (live, retiring, every) = lock.withLock { (self.live, self.retiring, Array(self.everyReplica.values)) }
        var out: [ReplicaStatus] = []
        var seen = Set<ObjectIdentifier>()
        func add(_ r: Replica, _ version: String, image: String) {
            guard seen.insert(ObjectIdentifier(r)).inserted else { return }
            let s = r.supervised.status
            let stopping = r.isStopping && s.state != .stopped
            let state = stopping ? "stopping" : s.crashLooping && s.state != .running ? "crash-loop" : s.state.rawValue
            let health = r.isReady ? "healthy" : stopping || s.pid == nil ? "-" : "checking"
            out.append(ReplicaStatus(version: version, app: r.app, replica: r.number, container: r.supervised.container.id,
                                     image: String(image.prefix(12)), state: state, health: health,
                                     since: s.since?.timeIntervalSince1970, restarts: s.restarts, lastExit: s.lastExit,
                                     log: r.supervised.logPath))
        }
        for d in live.values.sorted(by: { $0.config.name < $1.config.name }) { d.replicas.forEach { add($0, "live", image: d.imageID) } }
        for d in retiring { d.replicas.forEach { add($0, "old", image: d.imageID) } }
        for r in every.sorted(by: { ($0.app, $0.number) < ($1.app, $1.number) }) { add(r, "new", image: "") }
        return out
    }

    func writeStatus() {
        guard let statusFile else { return }
        ReplicaStatus.write(status(), to: statusFile)
    }

    /// Logs a replica that keeps exiting soon after it starts.
    func noteCrashLoop(_ r: Replica) {
        let s = r.supervised.status
        guard s.state == .backingOff, s.crashLooping, s.quickExits == 4 || s.quickExits % 10 == 0 else { return }
        output("[run]   \(r.app)  replica \(r.number) is crash-looping: exited \(s.quickExits) times in a row"
               + " (last status \(s.lastExit ?? -1)); restarting with backoff; log: \(r.supervised.logPath)")
        logger.error("crash loop", metadata: ["app": "\(r.app)", "replica": "\(r.number)", "exits": "\(s.quickExits)"])
    }
}

import BerthConfig
import BerthImage
import BerthRuntime
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The engine `berth serve` runs apps with: images from BerthImage's
/// builder and store, containers under runc (or crun where it works), each
/// under a keeper process of its own (`berth shim`: restarts, the log under
/// the state dir) so that it outlives serve.
public final class RuncEngine: ContainerEngine {
    let store: ImageStore
    let runc: Runc
    /// The berth executable keepers run as (`berth shim DIR`).
    let keeperBinary: String
    let output: @Sendable (String) -> Void
    /// Where keepers listen (`STATE/keepers`).
    var keepersDir: String { store.root + "/keepers" }
    var containersDir: String { store.root + "/containers" }
    /// Registries builds may pull from over plain HTTP (proxy.conf's `registry HOST insecure`).
    let insecureRegistries: Set<String>

    /// `runtime` is runc or crun; crun is probed first and replaced by runc
    /// (saying why on `output`) when it cannot start a container here.
    public init(store: ImageStore, runtime: ContainerRuntime = .runc, insecureRegistries: Set<String> = [],
                keeperBinary: String = RuncEngine.ownExecutable, logger: Logger,
                output: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.keeperBinary = keeperBinary
        self.output = output
        self.insecureRegistries = insecureRegistries
        var chosen = runtime
        if runtime != .runc {
            let (works, why) = RuntimeProbe.check(runtime.rawValue, scratch: store.root + "/tmp")
            if !works {
                output("[run]   runtime \(runtime) cannot start containers here (\(why)); using runc")
                logger.warning("runtime fallback", metadata: ["wanted": "\(runtime)", "using": "runc", "reason": "\(why)"])
                chosen = .runc
            }
        }
        runc = Runc(binary: chosen.rawValue, stateRoot: store.root + "/runc")
    }

    public var runtime: String { runc.binary }

    public func build(_ app: AppConfig, base: String, progress: @escaping @Sendable (String) -> Void) throws -> String {
        if let image = app.image {
            // A stored image is used as it is; a missing one is pulled once
            // (Docker's pull policy "missing": a newer one in the registry is not fetched).
            if let (id, _) = try store.resolve(image) { return id }
            return try ImagePull(store: store, insecure: insecureRegistries, output: progress).pull(image, ifMissing: true)
        }
        guard let build = app.build else { throw RuntimeError("app \(app.name) has nothing to build") }
        let context = build.hasPrefix("/") ? build : base + "/" + build
        var opts = BuildOptions(context: context)
        opts.dockerfile = app.dockerfile.map { $0.hasPrefix("/") ? $0 : context + "/" + $0 }
        opts.tag = "berth/\(app.name):latest"
        opts.insecureRegistries = insecureRegistries
        return try Builder(store: store, output: progress).build(opts)
    }

    public func makeProcess(_ app: AppConfig, number n: Int, version: Int, imageID: String, env extra: [String],
                            onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess {
        guard let image = store.image(imageID) else { throw StoreError("image \(imageID) vanished") }
        // env-file first, `env` lines over it, berth's own (PORT) last.
        let env = (app.envFileVars + app.env).map { "\($0.key)=\($0.value)" } + extra
        let process = try store.process(for: image, command: app.command ?? [], env: env)
        let mounts = app.volumes.map { ContainerMount(source: .volume($0.name), target: $0.target) }
            + app.mounts.map { ContainerMount(source: .host($0.source), target: $0.target, readOnly: $0.readOnly) }
            + app.secrets.map { ContainerMount(source: .secret($0.source), target: "/run/secrets/" + $0.name, readOnly: true) }
        let logs = store.root + "/logs"
        for (d, mode) in [(logs, 0o755), (keepersDir, 0o700)] where mkdir(d, mode_t(mode)) != 0 && errno != EEXIST {
            throw RuntimeError("cannot create \(d): \(String(cString: strerror(errno)))")
        }
        let id = "berth-\(app.name)-\(n)-v\(version)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let container = try Container(id: id, dir: containersDir + "/" + id,
                                      layers: image.layers.map { store.layerPath($0) }, process: process,
                                      hostname: "\(app.name)-\(n)", network: app.network == .host ? .host : .isolated,
                                      limits: ResourceLimits(memory: app.memory, cpus: app.cpus),
                                      security: ContainerSecurity(seccomp: app.seccomp == .unconfined ? .unconfined : .default, noNewPrivileges: true),
                                      mounts: mounts, volumes: VolumeStore(root: store.root + "/volumes"), runc: runc)
        let port = extra.first { $0.hasPrefix("PORT=") }.flatMap { Int($0.dropFirst(5)) } ?? app.listenPort
        let survivor = Survivor(id: id, app: app.name, number: n, version: version, imageID: imageID,
                                settings: Survivor.digest(of: app), port: port)
        let volumes = VolumeStore(root: store.root + "/volumes")
        let spec = KeeperSpec(run: container.run, logPath: logs + "/\(app.name)-\(n).log", socket: socketPath(id),
                              volumeLocks: app.volumes.map { volumes.path($0.name) + ".lock" }, labels: survivor.labels)
        do {
            try spec.write()
        } catch {
            container.remove()
            throw error
        }
        return KeptReplica(spec: spec, container: container, keeperBinary: keeperBinary, output: output, onChange: onChange)
    }

    /// A socket path that fits sun_path whatever the app's name (a digest of the id).
    func socketPath(_ id: String) -> String {
        keepersDir + "/" + String(SHA256.hex(id).prefix(20)) + ".sock"
    }

    /// This process's executable, for keepers (the path it was started from, as /proc/self/exe says).
    public static var ownExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Docker's rules: `CMD` runs its arguments, `CMD-SHELL` runs its string
    /// with /bin/sh -c; interval and timeout default to 30 s and retries to 3
    /// (the fall count); one pass brings a replica back (rise 1).
    public func imageHealth(_ imageID: String) -> HealthCheck? {
        guard let h = store.image(imageID)?.config.config.Healthcheck, let test = h.Test, let kind = test.first else { return nil }
        let command: [String]
        switch kind {
        case "CMD" where test.count > 1: command = Array(test.dropFirst())
        case "CMD-SHELL" where test.count > 1: command = ["/bin/sh", "-c", test[1]]
        default: return nil  // NONE, or nothing to run
        }
        func seconds(_ ns: Int64?) -> Double { ns.map { $0 > 0 ? Double($0) / 1e9 : 30 } ?? 30 }
        var check = HealthCheck(interval: seconds(h.Interval), timeout: seconds(h.Timeout), fall: max(1, h.Retries ?? 3), rise: 1)
        check.command = command
        return check
    }

    public func takeOver() -> (survivors: [Survivor], removed: [String]) {
        var survivors: [Survivor] = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: containersDir)) ?? []
        for id in entries.sorted() where id.hasPrefix("berth-") {
            guard let spec = try? KeeperSpec.read(dir: containersDir + "/" + id),
                  let survivor = Survivor(id: spec.id, labels: spec.labels),
                  let status = KeeperClient.query(spec.socket), status.container.state != .stopped else { continue }
            survivors.append(survivor)
        }
        let removed = Leftovers(runc: runc, containersDir: containersDir, prefix: "berth-").clean(keeping: Set(survivors.map(\.id)))
        return (survivors, removed)
    }

    public func adopt(_ survivor: Survivor, onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess {
        let spec = try KeeperSpec.read(dir: containersDir + "/" + survivor.id)
        return KeptReplica(spec: spec, container: nil, keeperBinary: keeperBinary, output: output, onChange: onChange)
    }

    public func discard(_ survivor: Survivor) {
        do {
            let r = try adopt(survivor, onChange: {})
            try r.start()
            r.stop(grace: 10)
        } catch {
            runc.forceDelete(survivor.id)
            Container.removeFiles(containersDir + "/" + survivor.id)
        }
    }
}

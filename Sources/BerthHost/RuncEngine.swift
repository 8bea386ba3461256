import BerthConfig
import BerthImage
import BerthRuntime
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The engine `berth serve` runs apps with: images from BerthImage's
/// builder and store, containers under runc (or crun where it works),
/// each supervised with restarts and its log under the state dir.
public final class RuncEngine: ContainerEngine {
    let store: ImageStore
    let runc: Runc
    /// Registries builds may pull from over plain HTTP (proxy.conf's `registry HOST insecure`).
    let insecureRegistries: Set<String>

    /// `runtime` is runc or crun; crun is probed first and replaced by runc
    /// (saying why on `output`) when it cannot start a container here.
    public init(store: ImageStore, runtime: ContainerRuntime = .runc, insecureRegistries: Set<String> = [], logger: Logger,
                output: @Sendable (String) -> Void) {
        self.store = store
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
        if mkdir(logs, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError("cannot create \(logs): \(String(cString: strerror(errno)))")
        }
        let id = "berth-\(app.name)-\(n)-v\(version)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let container = try Container(id: id, dir: store.root + "/containers/" + id,
                                      layers: image.layers.map { store.layerPath($0) }, process: process,
                                      hostname: "\(app.name)-\(n)", network: app.network == .host ? .host : .isolated,
                                      limits: ResourceLimits(memory: app.memory, cpus: app.cpus),
                                      security: ContainerSecurity(seccomp: app.seccomp == .unconfined ? .unconfined : .default, noNewPrivileges: true),
                                      mounts: mounts, volumes: VolumeStore(root: store.root + "/volumes"), runc: runc)
        return SupervisedReplica(SupervisedContainer(container: container, logPath: logs + "/\(app.name)-\(n).log",
                                                     onChange: { _ in onChange() }))
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

    public func cleanLeftovers() -> [String] {
        Leftovers(runc: runc, containersDir: store.root + "/containers", prefix: "berth-").clean()
    }
}

/// A replica's container under its supervisor: stopping it also removes its files.
final class SupervisedReplica: ReplicaProcess {
    let supervised: SupervisedContainer

    init(_ supervised: SupervisedContainer) { self.supervised = supervised }

    var id: String { supervised.container.id }
    var logPath: String { supervised.logPath }
    var status: SupervisedContainer.Status { supervised.status }

    func start() throws { try supervised.start() }

    func stop(grace: Double) {
        supervised.stop(grace: grace)
        supervised.container.remove()
    }

    func kill() { supervised.container.kill(.kill) }

    func exec(_ args: [String], timeout: Double) -> Int32? {
        supervised.container.runc.exec(supervised.container.id, args, timeout: timeout)
    }
}

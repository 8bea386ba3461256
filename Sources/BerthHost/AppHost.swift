import BerthConfig
import BerthImage
import BerthProxy
import BerthRuntime
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The control plane for container apps: builds each `build` app's image,
/// keeps its replicas running (supervised), waits until each accepts on its
/// port inside its own network namespace, and tells the proxy where they are.
public final class AppHost: @unchecked Sendable {
    let store: ImageStore
    let logger: Logger
    let output: @Sendable (String) -> Void
    private let running = Mutex<[String: RunningApp]>([:])
    /// Every replica ever started (for an urgent kill while a stop is under way).
    private let started = Mutex<[SupervisedContainer]>([])
    /// One stop at a time; a second caller returns only when the first is done.
    private let stopping = NSLock()

    struct RunningApp {
        var config: AppConfig
        var replicas: [SupervisedContainer]
        var placements: [Placement]
    }

    public init(store: ImageStore, logger: Logger, output: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.logger = logger
        self.output = output
    }

    /// Builds and starts every `build` app of `config` (in parallel); an app
    /// that fails is logged and gets no placements (the proxy answers 503).
    public func start(_ config: Config) -> [String: [Placement]] {
        let apps = config.apps.filter { $0.build != nil }
        let base = (config.file as NSString).deletingLastPathComponent
        DispatchQueue.concurrentPerform(iterations: apps.count) { i in
            let app = apps[i]
            do {
                let r = try deploy(app, base: base.isEmpty ? "." : base, startTimeout: config.timeouts.start)
                running.withLock { $0[app.name] = r }
            } catch {
                output("[run]   \(app.name)  failed: \(error)")
                logger.error("app failed to start", metadata: ["app": "\(app.name)", "error": "\(error)"])
            }
        }
        return placements
    }

    /// Where the running replicas listen, by app.
    public var placements: [String: [Placement]] {
        running.withLock { $0.mapValues(\.placements) }
    }

    /// Stops every replica (SIGTERM, SIGKILL after `grace`) and removes its
    /// files. A `grace` of 0 kills at once, even replicas another call is
    /// already stopping; every caller returns only when all are gone.
    public func stopAll(grace: Double) {
        if grace <= 0 {
            for r in started.withLock({ $0 }) { r.container.kill("KILL") }
        }
        stopping.lock()
        defer { stopping.unlock() }
        let all = running.withLock { r in
            let replicas = r.values.flatMap(\.replicas)
            r.removeAll()
            return replicas
        }
        DispatchQueue.concurrentPerform(iterations: all.count) { i in
            all[i].stop(grace: grace)
            all[i].container.remove()
        }
    }

    private func deploy(_ app: AppConfig, base: String, startTimeout: Double) throws -> RunningApp {
        let context = app.build!.hasPrefix("/") ? app.build! : base + "/" + app.build!
        var opts = BuildOptions(context: context)
        opts.dockerfile = app.dockerfile.map { $0.hasPrefix("/") ? $0 : context + "/" + $0 }
        opts.tag = "berth/\(app.name):latest"
        let out = output
        let imageID = try Builder(store: store, output: { out("[build] \(app.name)  \($0)") }).build(opts)
        guard let image = store.image(imageID) else { throw StoreError("image \(imageID) vanished") }
        var replicas: [SupervisedContainer] = []
        var placements: [Placement] = []
        do {
            try startReplicas(app, image: image, startTimeout: startTimeout, into: &replicas, &placements)
        } catch {
            // Half an app is not started: stop what did start.
            for r in replicas {
                r.stop(grace: 1)
                r.container.remove()
            }
            throw error
        }
        return RunningApp(config: app, replicas: replicas, placements: placements)
    }

    private func startReplicas(_ app: AppConfig, image: ImageStore.Image, startTimeout: Double,
                               into replicas: inout [SupervisedContainer], _ placements: inout [Placement]) throws {
        for n in 1...app.replicas {
            let start = Date()
            var port = app.port ?? 8000
            var env = app.env.map { "\($0.key)=\($0.value)" }
            if app.network == .host {
                port = Self.freePort()
                env.append("PORT=\(port)")
            }
            let process = try store.process(for: image, command: [], env: env)
            let id = "berth-\(app.name)-\(n)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            let container = try Container(id: id, dir: store.root + "/containers/" + id,
                                          layers: image.layers.map { store.layerPath($0) }, process: process,
                                          hostname: "\(app.name)-\(n)", network: app.network == .host ? .host : .isolated,
                                          runc: Runc(stateRoot: store.root + "/runc"))
            let supervised = SupervisedContainer(container: container, logPath: store.root + "/containers/\(id).log")
            supervised.start()
            started.withLock { $0.append(supervised) }
            replicas.append(supervised)
            guard supervised.waitRunning(timeout: 10), let ns = supervised.netnsPath else {
                throw RuntimeError("\(app.name) replica \(n) did not start (see \(supervised.logPath))")
            }
            let netns = app.network == .host ? nil : ns
            let ready = try waitAccepting(netns: netns, port: port, timeout: startTimeout)
            guard ready else { throw RuntimeError("\(app.name) replica \(n) did not accept on port \(port) within \(startTimeout)s") }
            placements.append(Placement(netns: netns, port: port))
            output(String(format: "[run]   %@  started %d/%d (container %@), healthy in %.0fms", app.name, n, app.replicas,
                          String(id.suffix(8)), Date().timeIntervalSince(start) * 1000))
        }
    }

    private func waitAccepting(netns: String?, port: Int, timeout: Double) throws -> Bool {
        let end = Date().addingTimeInterval(timeout)
        let ns = try netns.map { try NetworkNamespace(path: $0) }
        while Date() < end {
            if let ns {
                if ns.accepts(port: port, timeout: 0.5) { return true }
            } else if (try? NetworkNamespace(path: "/proc/self/ns/net"))?.accepts(port: port, timeout: 0.5) == true {
                return true
            }
            usleep(100_000)
        }
        return false
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

import BerthConfig
import BerthRouting
import BerthRuntime
import Foundation

extension Controller {
    static func base(of config: Config) -> String {
        let b = (config.file as NSString).deletingLastPathComponent
        return b.isEmpty ? "." : b
    }

    /// Builds `app`'s image (cached); its progress lines are printed, or
    /// returned instead when `quiet` (a reload prints them only for a change).
    func build(_ app: AppConfig, config: Config, quiet: Bool) throws -> (imageID: String, lines: [String]) {
        let lines = Collected<String>()
        let out = output
        let id = try engine().build(app, base: Self.base(of: config), progress: { line in
            let l = "[build] \(app.name)  \(line)"
            if quiet { lines.append(l) } else { out(l) }
        })
        return (id, lines.ordered)
    }

    /// Starts `app`'s replicas from `imageID` and waits until every one has
    /// passed its gate; on failure stops those it started.
    func deploy(_ app: AppConfig, imageID: String, startTimeout: Double) throws -> Deployment {
        let version = state.withLock { s -> Int in
            s.versions += 1
            return s.versions
        }
        var replicas: [Replica] = []
        do {
            for n in 1...app.replicas {
                let started = Date()  // the figure includes the overlay mount and the bundle
                let survivor = claimSurvivor(app, n: n, imageID: imageID)
                let r = try makeReplica(app, n: n, version: version, imageID: imageID, adopting: survivor)
                replicas.append(r)
                try r.start()
                guard r.waitReady(timeout: startTimeout) else {
                    throw RuntimeError("\(app.name) replica \(n) did not pass its \(app.health == nil ? "port check" : "health check") within \(startTimeout)s"
                                       + " (last: \(r.lastProbe.isEmpty ? "container not running" : r.lastProbe); log: \(r.process.logPath))")
                }
                output(String(format: "[run]   %@  %@ %d/%d (container %@), healthy in %.0fms", app.name, survivor == nil ? "started" : "adopted",
                              n, app.replicas, String(r.process.id.split(separator: "-").last ?? ""), Date().timeIntervalSince(started) * 1000))
            }
        } catch {
            // Half an app is not started: stop what did start.
            for r in replicas { stop(r, grace: 1) }
            throw error
        }
        return Deployment(config: app, imageID: imageID, replicas: replicas)
    }

    /// Replica `n` of `app`: a new container, or `adopting` an earlier serve's as it runs.
    private func makeReplica(_ app: AppConfig, n: Int, version: Int, imageID: String, adopting survivor: Survivor?) throws -> Replica {
        // A worker has no port: nothing to probe, nothing to route.
        var port = app.listenPort
        var env: [String] = []
        // A link is 127.0.0.1 inside the container: the same variables a DNS name would fill elsewhere.
        for l in app.links {
            env.append("\(l.environmentPrefix)_HOST=127.0.0.1")
            env.append("\(l.environmentPrefix)_PORT=\(l.localPort)")
        }
        if app.network == .host && port != nil {
            port = survivor?.port ?? LoopbackPort.free()
            env.append("PORT=\(port!)")
        }
        let engine = try engine()
        let r = try Replica(app: app.name, number: n, port: port, isolated: app.network != .host,
                            health: app.health ?? engine.imageHealth(imageID),
                            prober: dataPlane, links: app.links.map { LinkListen(app: $0.app, port: $0.localPort) },
                            makeProcess: { changed in
                                if let survivor { return try engine.adopt(survivor, onChange: changed) }
                                return try engine.makeProcess(app, number: n, version: version, imageID: imageID, env: env, onChange: changed)
                            },
                            onChange: { [weak self] r in
                                self?.noteCrashLoop(r)
                                self?.publish()
                            })
        // Registered under the lock `stopAll` marks stopping with: it either
        // sees this replica or this refuses to start it.
        let registered = state.withLock { s -> Bool in
            guard s.lifecycle == .serving else { return false }
            s.replicas[ObjectIdentifier(r)] = r
            return true
        }
        guard registered else {
            r.stop(grace: 0)  // its container's files exist already
            throw RuntimeError("berth is stopping")
        }
        return r
    }

    /// Stops one replica and forgets it.
    func stop(_ r: Replica, grace: Double) {
        r.stop(grace: grace)
        state.withLock { _ = $0.replicas.removeValue(forKey: ObjectIdentifier(r)) }
    }

    /// Stops every replica of `d` (in parallel).
    func stop(_ d: Deployment) {
        let grace = stopGrace
        let replicas = d.replicas
        inParallel(replicas.count) { [self] in stop(replicas[$0], grace: grace) }
    }

    /// Waits (without blocking) until no request is in flight on `d`'s
    /// replicas, or `timeouts.drain`; then until its WebSocket and other
    /// Upgrade tunnels have closed, or `timeouts.tunnelDrain`, closing those
    /// left (1012 for a WebSocket) over `timeouts.tunnelDrainSpread`; then
    /// stops its replicas and tells `app`'s model.
    func retire(_ d: Deployment, of app: String, timeouts: Timeouts) {
        let placements = d.replicas.compactMap(\.placement)
        dataPlane.whenIdle(placements, timeout: timeouts.drain) { [self] outcome in
            if case .timedOut(let busy) = outcome {
                logger.warning("drain timeout: stopping an old version with requests in flight",
                               metadata: ["app": "\(app)", "busy": "\(busy.map(\.description))"])
            }
            // Never routed: no tunnel can be open to it.
            guard !placements.isEmpty else { return stopRetired(d, of: app) }
            dataPlane.whenIdle(placements, includingTunnels: true, timeout: timeouts.tunnelDrain) { [self] tunnels in
                guard case .timedOut = tunnels else { return stopRetired(d, of: app) }
                output("[run]   \(app)  closing the old version's tunnels over \(timeouts.tunnelDrainSpread)s (tunnel-drain)")
                dataPlane.closeTunnels(placements, spread: timeouts.tunnelDrainSpread) { [self] _ in
                    stopRetired(d, of: app)
                }
            }
        }
    }

    /// The old version `d` is drained: its replicas stop.
    private func stopRetired(_ d: Deployment, of app: String) {
        output("[run]   \(app)  stopping old version \(String(d.imageID.prefix(12)))")
        stop(d)
        state.withLock { s in
            s.apps[app]?.stopped(d)
            if s.apps[app]?.isGone == true { s.apps[app] = nil }
        }
        writeStatus()
    }
}

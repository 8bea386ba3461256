import BerthConfig
import BerthRouting
import Foundation

extension Controller {
    /// Applies `config`: builds every container app (cached), starts and
    /// gates a new version of each one whose image or container settings
    /// changed beside the old, then switches the data plane to the new
    /// config and routing in one step, and retires the old versions and the
    /// removed apps (drained, then stopped). A version that fails to build or
    /// to pass its gate is stopped and the app keeps its old version and
    /// settings. If the switch fails, every new version is stopped and
    /// nothing changes.
    public func reload(_ config: Config) -> ReloadReport {
        control.lock()
        defer { control.unlock() }
        guard state.withLock({ $0.lifecycle == .serving }) else {
            return ReloadReport(outcome: .rejected(reason: "berth is stopping"), generation: dataPlane.generation)
        }
        let apps = Self.containerApps(config)
        let current = state.withLock { $0.apps.compactMapValues(\.live) }
        var report = ReloadReport(outcome: .rejected(reason: ""), generation: dataPlane.generation)
        let failures = Collected<String>()
        let fresh = Collected<Deployment>()
        let order = StartOrder(starting: apps.map(\.name))
        inParallel(apps.count) { [self] i in
            let app = apps[i]
            let old = current[app.name]
            // A consumer's new version starts after the apps it links to (their
            // new versions are routed at the switch; until then links reach the old).
            defer { order.finished(app.name) }
            do {
                let (imageID, buildLines) = try build(app, config: config, quiet: old != nil)
                if let old, old.runsSame(as: app, imageID: imageID) { return }
                _ = order.wait(for: app.links.map(\.app))
                if old != nil { buildLines.forEach(output) }
                state.withLock { s in
                    if s.apps[app.name] == nil { s.apps[app.name] = AppModel() } else { _ = s.apps[app.name]!.beginRedeploy() }
                }
                if let old, app.deployStrategy == .recreate {
                    fresh.add(app.name, try recreate(app, imageID: imageID, replacing: old, startTimeout: config.timeouts.start))
                    return
                }
                output("[run]   \(app.name)  starting version \(String(imageID.prefix(12)))" + (old == nil ? "" : " beside \(String(old!.imageID.prefix(12)))"))
                fresh.add(app.name, try deploy(app, imageID: imageID, startTimeout: config.timeouts.start))
            } catch {
                failures.add(app.name, "\(error)")
                if let r = error as? RecreateFailed {
                    // Still redeploying: the switch routes the old version started again.
                    fresh.add(app.name, r.restarted)
                    logger.error("recreate failed: old version started again", metadata: ["app": "\(app.name)", "error": "\(error)"])
                    return
                }
                state.withLock { s in
                    if s.apps[app.name] == nil { s.apps[app.name] = AppModel() }
                    _ = s.apps[app.name]!.rolledBack("\(error)")
                }
                output("[run]   \(app.name)  new version failed, \(old == nil ? "not started" : "old version keeps serving"): \(error)")
                logger.error("redeploy failed: rolled back", metadata: ["app": "\(app.name)", "error": "\(error)"])
            }
        }
        report.failed = failures.all
        // Failed apps keep their old settings (and containers) if they had some.
        var effective = config
        effective.apps = config.apps.map { app in
            guard report.failed[app.name] != nil, let old = current[app.name] else { return app }
            return old.config
        }
        let newVersions = fresh.all
        let wanted = Set(apps.map(\.name))
        let removed = state.withLock { s in s.apps.filter { !wanted.contains($0.key) && $0.value.live != nil }.keys.sorted() }
        // The switch: the data plane gets the new config and routes while no
        // other routing update can interleave.
        let outcome: AppliedGeneration
        var retiring: [(String, Deployment)] = []
        do {
            (outcome, retiring) = try publishing.withLock { () throws -> (AppliedGeneration, [(String, Deployment)]) in
                // Serve began to stop while this reload built: switch nothing.
                guard state.withLock({ $0.lifecycle == .serving }) else { throw DataPlaneError.stopping }
                var routing = routingNow().filter { wanted.contains($0.key) }
                // skew-retry: the version being replaced is the one to try a 404 on.
                var previous = previousNow().filter { wanted.contains($0.key) }
                for (name, d) in newVersions where d.config.skewRetry {
                    let old = routing[name]?.placements ?? []
                    if !old.isEmpty { previous[name] = (previous[name] ?? []) + old }
                }
                for (name, d) in newVersions { routing[name] = .ready(d.placements) }
                let applied = try dataPlane.apply(RoutingInput(config: effective, apps: routing, previous: previous))
                var retiring: [(String, Deployment)] = []
                state.withLock { s in
                    for (name, d) in newVersions {
                        if let old = s.apps[name]?.switched(to: d) {
                            retiring.append((name, old))
                        } else {
                            _ = s.apps[name]?.added(d)
                        }
                    }
                    for name in removed {
                        for d in s.apps[name]?.remove() ?? [] { retiring.append((name, d)) }
                    }
                    // Dropped apps that were neither live nor draining leave no trace.
                    for (name, m) in s.apps where !wanted.contains(name) && m.live == nil && m.draining.isEmpty {
                        s.apps[name] = nil
                    }
                }
                configInForce.withLock { $0 = effective }
                return (applied, retiring)
            }
        } catch {
            logger.error("reload not applied: stopping the new versions", metadata: ["error": "\(error)"])
            state.withLock { s in
                for name in newVersions.keys { _ = s.apps[name]?.rolledBack("\(error)") }
            }
            // Never routed unless a late worker switched for a moment: drain them too.
            for (name, d) in newVersions { retire(d, of: name, timeouts: config.timeouts) }
            report.outcome = .rejected(reason: "\(error)")
            report.generation = dataPlane.generation
            writeStatus()
            return report
        }
        // Outside the locks: a retired version's stop publishes routing.
        for (name, d) in retiring { retire(d, of: name, timeouts: config.timeouts) }
        report.outcome = .applied(outcome)
        report.generation = outcome.generation
        report.deployed = newVersions.keys.sorted()
        report.removed = removed
        writeStatus()
        return report
    }

    /// `deploy recreate`: the old version stops first (two servers never share
    /// a data directory), then the new one starts. If the new one fails, the
    /// old version is started again from its image and the error is thrown
    /// (the app keeps its old settings, as after a failed blue-green deploy);
    /// the restarted old version is what the switch then routes.
    func recreate(_ app: AppConfig, imageID: String, replacing old: Deployment, startTimeout: Double) throws -> Deployment {
        output("[run]   \(app.name)  recreating: stopping version \(String(old.imageID.prefix(12))) before starting \(String(imageID.prefix(12)))")
        stop(old)
        do {
            return try deploy(app, imageID: imageID, startTimeout: startTimeout)
        } catch {
            output("[run]   \(app.name)  new version failed: starting version \(String(old.imageID.prefix(12))) again: \(error)")
            let restarted = try deploy(old.config, imageID: old.imageID, startTimeout: startTimeout)
            throw RecreateFailed(error: "\(error)", restarted: restarted)
        }
    }

    /// A recreate whose new version failed after the old one was started again.
    struct RecreateFailed: Error, CustomStringConvertible {
        let error: String
        let restarted: Deployment
        var description: String { error }
    }

    /// A reload refused before it reached the control plane (the file does
    /// not parse): counted, and reported with the generation in force.
    public func rejectReload(_ error: any Error) -> ReloadReport {
        dataPlane.recordRejectedReload()
        return ReloadReport(outcome: .rejected(reason: "\(error)"), generation: dataPlane.generation)
    }
}

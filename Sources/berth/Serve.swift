import ArgumentParser
import BerthConfig
import BerthHost
import BerthImage
import BerthProxy
import BerthRuntime
import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `berth serve`: run the proxy on proxy.conf. SIGHUP reloads it, SIGTERM or
/// SIGINT drains it (a second one exits at once).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the apps of proxy.conf; SIGHUP reloads it, SIGTERM drains and exits.")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var pid: PidFileOption

    func run() throws {
        LogSetup.bootstrap()
        let logger = Logger(label: "berth")
        let config = try options.load()
        let files = RuntimeFiles(options: options, config: config, pidFile: pid.pidFile)
        files.makeDirectory()
        let lock: PidFileLock
        do {
            lock = try PidFileLock(path: files.pidFile)
        } catch {
            printError("berth: \(error)")
            throw ExitCode(1)
        }

        // Signals are taken synchronously by this thread; workers never see them.
        signal(SIGPIPE, SIG_IGN)
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        // The proxy listens first; container apps are listed as starting (their
        // requests wait up to `timeouts { start }`) and routed as they pass their gates.
        let host: AppHost? = config.apps.contains(where: { $0.build != nil })
            ? AppHost(store: try options.openStore(), runtime: config.runtime, logger: Logger(label: "berth.host"),
                      output: { printOut($0) })
            : nil
        if let host {
            if !Leftovers.becomeSubreaper() { logger.warning("cannot become child subreaper; orphaned containers go to init") }
            host.statusFile = files.psFile
            host.insecureRegistries = config.insecureRegistries
            host.cleanLeftovers()
        }
        let server: ProxyServer
        do {
            server = try ProxyServer(config: config, placements: AppHost.startingPlacements(config), logger: Logger(label: "berth.proxy"))
        } catch {
            lock.release()
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        server.start()
        printOut("[proxy] listening on \(Self.addresses(server)) with \(server.workerCount) workers: \(Self.routes(config))")
        logger.notice("serving", metadata: ["generation": "1", "pid": "\(getpid())", "pid_file": "\(files.pidFile)"])
        // Reloads run one at a time off the signal thread, so a long rebuild
        // never delays a stop signal.
        let control = DispatchQueue(label: "berth.control")
        if let host {
            host.route(to: server)
            let began = DispatchTime.now()
            control.async {
                let failed = host.start(config)
                let s = Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9
                printOut(String(format: "[serve] apps started in %.2fs", s) + (failed.isEmpty ? "" : "; failed: \(failed.keys.sorted().joined(separator: ", "))"))
            }
        }

        var sequence = (ReloadStatus.read(files.statusFile)?.sequence ?? 0)
        var draining = false
        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            if received == SIGHUP {
                if draining {
                    logger.warning("SIGHUP while draining: reload ignored")
                    continue
                }
                sequence += 1
                let n = sequence
                control.async { reload(server, host: host, files: files, sequence: n, logger: logger) }
                continue
            }
            if draining {
                logger.warning("second stop signal: exiting now")
                host?.stopAll(grace: 0)
                lock.release()
                Glibc.exit(0)
            }
            draining = true
            let timeout = server.config.timeouts.drain
            logger.notice("draining", metadata: ["signal": "\(received)", "timeout_s": "\(timeout)"])
            DispatchQueue.global().async {
                let clean = server.drain(timeout: timeout)
                host?.stopAll(grace: host?.stopGrace ?? 10)
                logger.notice(clean ? "drained: exiting" : "drain timeout: closed the rest, exiting")
                lock.release()
                Glibc.exit(0)
            }
        }
    }

    /// Re-reads the config and applies it: container apps that changed are
    /// redeployed blue-green first; an invalid file changes nothing.
    private func reload(_ server: ProxyServer, host: AppHost?, files: RuntimeFiles, sequence: Int, logger: Logger) {
        let start = DispatchTime.now()
        logger.notice("SIGHUP: reloading", metadata: ["config": "\(options.configPath)"])
        do {
            let config: Config
            do {
                config = try Config.load(path: options.configPath)
            } catch {
                server.recordRejectedReload()
                throw error
            }
            var outcome: ProxyServer.ReloadOutcome?
            var report: AppHost.RedeployReport?
            if let host {
                report = try host.redeploy(config) { effective, placements in
                    outcome = try server.apply(effective, placements: placements)
                }
            } else {
                outcome = try server.apply(config)
            }
            guard let outcome else { return }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            var message = outcome.diff.summary
            if let report, !report.deployed.isEmpty || !report.removed.isEmpty, message == "no changes" {
                message = "routes unchanged"
            }
            if let report {
                if !report.deployed.isEmpty { message += "; redeployed \(report.deployed.joined(separator: ","))" }
                if !report.removed.isEmpty { message += "; stopped \(report.removed.joined(separator: ","))" }
                for (app, error) in report.failed.sorted(by: { $0.key < $1.key }) { message += "\napp \(app): \(error)" }
            }
            logger.notice("reload applied", metadata: [
                "generation": "\(outcome.generation)", "changes": "\(message.split(separator: "\n").first ?? "")",
                "took_ms": "\(Double(Int(ms * 1000)) / 1000)",
            ])
            for what in outcome.diff.needsRestart {
                logger.warning("reload: '\(what)' changed but needs a restart; keeping the running value")
            }
            ReloadStatus(sequence: sequence, applied: true, generation: outcome.generation, message: message,
                         partial: !(report?.failed.isEmpty ?? true)).write(to: files.statusFile)
        } catch {
            logger.error("reload rejected: keeping generation \(server.generation)", metadata: ["error": "\(error)"])
            ReloadStatus(sequence: sequence, applied: false, generation: server.generation,
                         message: "\(error)").write(to: files.statusFile)
        }
    }

    static func addresses(_ server: ProxyServer) -> String {
        zip(server.config.listens, server.ports).map { l, port in
            "\(l.address.host.isEmpty ? "0.0.0.0" : l.address.host):\(port)"
        }.joined(separator: ", ")
    }

    static func routes(_ config: Config) -> String {
        let r = config.apps.map { "\($0.host ?? "")\($0.path) -> \($0.name)" }.joined(separator: ", ")
        return r.isEmpty ? "no routes" : r
    }
}

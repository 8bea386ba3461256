import ArgumentParser
import BerthConfig
import BerthHost
import BerthImage
import BerthProxy
import BerthRouting
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
        let parseCache = ConfigCacheBox()
        let config = try options.load(into: parseCache)
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

        // A store that can't be read (a corrupt tags.json) stops serve before
        // it listens, naming the file.
        var store: ImageStore?
        if !Controller.initialRouting(config).isEmpty {
            do {
                let s = try options.openStore()
                try s.checkReadable()
                store = s
            } catch {
                lock.release()
                printError("berth: \(error)")
                throw ExitCode(1)
            }
        }
        let openedStore = store

        // The proxy listens first; container apps are listed as starting (their
        // requests wait up to `timeouts { start }`) and routed as they pass their gates.
        let server: ProxyServer
        do {
            server = try ProxyServer(RoutingInput(config: config, apps: Controller.initialRouting(config)),
                                     logger: Logger(label: "berth.proxy"))
            try server.start()
        } catch {
            lock.release()
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        let options = self.options
        let controller = Controller(config: config, dataPlane: server, engine: {
            if !Leftovers.becomeSubreaper() { logger.warning("cannot become child subreaper; orphaned containers go to init") }
            return RuncEngine(store: try openedStore ?? options.openStore(), runtime: config.runtime, insecureRegistries: config.insecureRegistries,
                              logger: Logger(label: "berth.host"), output: { printOut($0) })
        }, logger: Logger(label: "berth.host"), output: { printOut($0) })
        controller.statusFile = files.psFile
        controller.writeInitialStatus()
        printOut("[proxy] listening on \(Self.addresses(server)) with \(server.workerCount) workers: \(Self.routes(config))")
        // `tls auto`: stored certificates now, the CA's in the background.
        let certificates = CertificateManager(root: options.resolvedStateDir + "/acme", dataPlane: server,
                                              logger: Logger(label: "berth.acme"), output: { printOut($0) })
        if config.usesACME { certificates.update(config) }
        logger.notice("serving", metadata: ["generation": "1", "pid": "\(getpid())", "pid_file": "\(files.pidFile)"])
        // Starts and reloads run one at a time off the signal thread, so a
        // long rebuild never delays a stop signal.
        let control = DispatchQueue(label: "berth.control")
        if !Controller.initialRouting(config).isEmpty {
            let began = DispatchTime.now()
            control.async {
                let failed = controller.start()
                let s = Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9
                printOut(String(format: "[serve] apps started in %.2fs", s) + (failed.isEmpty ? "" : "; failed: \(failed.keys.sorted().joined(separator: ", "))"))
            }
        }

        var sequence = (ReloadStatus.read(files.statusFile)?.sequence ?? 0)
        var draining = false
        while true {
            var info = siginfo_t()
            let received = sigwaitinfo(&signals, &info)
            if received < 0 { continue }  // EINTR
            if received == SIGHUP {
                if draining {
                    logger.warning("SIGHUP while draining: reload ignored")
                    continue
                }
                sequence += 1
                let n = sequence
                let requester = ReloadRequest(info)
                control.async {
                    reload(controller, server: server, files: files, parseCache: parseCache, certificates: certificates, sequence: n, requester: requester, logger: logger)
                }
                continue
            }
            if draining {
                logger.warning("second stop signal: exiting now")
                controller.stopAll(grace: 0)
                lock.release()
                Glibc.exit(0)
            }
            draining = true
            let timeout = server.config.timeouts.drain
            logger.notice("draining", metadata: ["signal": "\(received)", "timeout_s": "\(timeout)"])
            DispatchQueue.global().async {
                let clean = controller.stop(drainTimeout: timeout)
                logger.notice(clean ? "drained: exiting" : "drain timeout: closed the rest, exiting")
                lock.release()
                Glibc.exit(0)
            }
        }
    }

    /// Re-reads the config and hands it to the control plane; writes the
    /// outcome for `berth reload` (and tells it when that write fails).
    private func reload(_ controller: Controller, server: ProxyServer, files: RuntimeFiles, parseCache: ConfigCacheBox,
                        certificates: CertificateManager, sequence: Int,
                        requester: ReloadRequest?, logger: Logger) {
        let start = DispatchTime.now()
        logger.notice("SIGHUP: reloading", metadata: ["config": "\(options.configPath)"])
        let report: ReloadReport
        var reused = 0
        do {
            let (config, n) = try parseCache.load(path: options.configPath)
            reused = n
            report = controller.reload(config)
            if case .applied = report.outcome, config.usesACME || server.config.usesACME { certificates.update(server.config) }
        } catch {
            report = controller.rejectReload(error)
        }
        let status: ReloadStatus
        switch report.outcome {
        case .applied(let applied):
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            let message = Self.summary(applied, report)
            logger.notice("reload applied", metadata: [
                "generation": "\(applied.generation)", "changes": "\(message.split(separator: "\n").first ?? "")",
                "took_ms": "\(Double(Int(ms * 1000)) / 1000)", "apps_reused": "\(reused)",
            ])
            for what in applied.diff.needsRestart {
                logger.warning("reload: '\(what)' changed but needs a restart; keeping the running value")
            }
            status = ReloadStatus(sequence: sequence, applied: true, generation: applied.generation, message: message,
                                  partial: !report.failed.isEmpty)
        case .rejected(let reason):
            logger.error("reload rejected: keeping generation \(report.generation)", metadata: ["error": "\(reason)"])
            status = ReloadStatus(sequence: sequence, applied: false, generation: report.generation, message: reason)
        }
        do {
            try status.write(to: files.statusFile)
        } catch {
            logger.error("reload status not written: berth reload cannot read the outcome", metadata: ["error": "\(error)"])
            if let requester, !requester.reportStatusWriteFailed(error.code) {
                logger.warning("berth reload that asked is gone", metadata: ["pid": "\(requester.pid)"])
            }
        }
    }

    /// `berth reload`'s one-line summary of an applied reload.
    static func summary(_ applied: AppliedGeneration, _ report: ReloadReport) -> String {
        var message = applied.diff.summary
        if !report.deployed.isEmpty || !report.removed.isEmpty, message == "no changes" {
            message = "routes unchanged"
        }
        if !report.deployed.isEmpty { message += "; redeployed \(report.deployed.joined(separator: ","))" }
        if !report.removed.isEmpty { message += "; stopped \(report.removed.joined(separator: ","))" }
        for (app, error) in report.failed.sorted(by: { $0.key < $1.key }) { message += "\napp \(app): \(error)" }
        return message
    }

    static func addresses(_ server: ProxyServer) -> String {
        zip(server.config.listens, server.ports).map { l, port in
            "\(l.address.host.isEmpty ? "0.0.0.0" : l.address.host):\(port)"
        }.joined(separator: ", ")
    }

    static func routes(_ config: Config) -> String {
        let r = config.apps.filter(\.isRouted).map { "\($0.host ?? "")\($0.path) -> \($0.name)" }.joined(separator: ", ")
        return r.isEmpty ? "no routes" : r
    }
}

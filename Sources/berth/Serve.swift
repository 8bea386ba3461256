import ArgumentParser
import BerthConfig
import BerthHost
import BerthImage
import BerthProxy
import BerthRouting
import BerthRuntime
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `berth serve`: run the proxy on proxy.conf. SIGHUP reloads it, SIGTERM or
/// SIGINT drains it (a second one exits at once), SIGUSR2 (`berth upgrade`)
/// hands it over to a new binary. Apps run under keepers and outlive it.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the apps of proxy.conf; SIGHUP reloads it, SIGTERM drains and exits, SIGUSR2 upgrades.")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var pid: PidFileOption

    @Option(name: .customLong("handover-fd"), help: .hidden)
    var handoverFD: Int32?

    func run() throws {
        // Before anything touches OpenSSL: serve exits under threads still in it.
        try OpenSSLExit.keepStateThroughExit()
        LogSetup.bootstrap()
        let logger = Logger(label: "berth")
        let parseCache = ConfigCacheBox()
        // Taking over from a running serve (`berth upgrade`): fd 3 talks to it.
        let takeover = handoverFD.map { fd -> HandoverChannel in
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            return HandoverChannel(fd: fd)
        }
        func refuseTakeover(_ why: String) -> ExitCode {
            printError("berth: \(why)")
            takeover?.send("failed \(why)")
            return ExitCode(1)
        }
        let config: Config
        do {
            config = try options.load(into: parseCache)
        } catch {
            if takeover == nil { throw error }
            throw refuseTakeover("\(error)")
        }
        let files = RuntimeFiles(options: options, config: config, pidFile: pid.pidFile)
        files.makeDirectory()
        let lock: PidFileLock
        var inherited = HandedOverSockets()
        var previousServe: Int32?
        if let takeover {
            guard takeover.send("hello \(getpid())"), let got = takeover.receive(timeout: 30) else {
                throw refuseTakeover("the serve being upgraded did not hand over its sockets")
            }
            let parts = got.text.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, parts[0] == "sockets", let old = Int32(parts[1]), let lockFD = got.fds.last,
                  let layout = try? JSONDecoder().decode(HandedOverSockets.Layout.self, from: Data(parts[2].utf8)) else {
                got.fds.forEach { _ = Glibc.close($0) }
                throw refuseTakeover("the serve being upgraded sent \(got.text.prefix(100))")
            }
            inherited = HandedOverSockets(layout: layout, fds: Array(got.fds.dropLast()))
            lock = PidFileLock(adopting: lockFD, path: files.pidFile)
            previousServe = old
        } else {
            do {
                lock = try PidFileLock(path: files.pidFile)
            } catch {
                printError("berth: \(error)")
                throw ExitCode(1)
            }
        }

        // Signals are taken synchronously by this thread; workers never see them.
        signal(SIGPIPE, SIG_IGN)
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR2] { sigaddset(&signals, s) }
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
                if takeover != nil { throw refuseTakeover("\(error)") }
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
                                     inherited: inherited, logger: Logger(label: "berth.proxy"))
            try server.start()
        } catch {
            if takeover != nil { throw refuseTakeover("\(error)") }
            lock.release()
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        let options = self.options
        let controller = Controller(config: config, dataPlane: server, engine: {
            return RuncEngine(store: try openedStore ?? options.openStore(), runtime: config.runtime, insecureRegistries: config.insecureRegistries,
                              keeperBinary: HandOff.ownBinary, logger: Logger(label: "berth.host"), output: { printOut($0) })
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
        if let takeover {
            // The old serve routes until this one has adopted every app; its
            // leftovers (apps it ran that this config changed) go once it exits.
            let failed = controller.start(discardingSurvivors: false)
            if !failed.isEmpty {
                let why = failed.sorted { $0.key < $1.key }.map { "app \($0.key): \($0.value)" }.joined(separator: "; ")
                controller.abandon()
                _ = refuseTakeover(why)
                Glibc.exit(1)
            }
            takeover.send("accepting")
            // `bye`, or the old serve gone: this one holds the pid file's lock now.
            _ = takeover.receive(timeout: 30)
            lock.claim()
            takeover.send("done")
            takeover.close()
            printOut("[serve] took over from pid \(previousServe ?? 0)")
            logger.notice("took over", metadata: ["from_pid": "\(previousServe ?? 0)", "pid": "\(getpid())"])
            if let old = previousServe {
                DispatchQueue.global().async {
                    ProcessExit.wait(old)
                    control.async { controller.discardSurvivors() }
                }
            }
        } else if !Controller.initialRouting(config).isEmpty {
            let began = DispatchTime.now()
            control.async {
                let failed = controller.start()
                let s = Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9
                printOut(String(format: "[serve] apps started in %.2fs", s) + (failed.isEmpty ? "" : "; failed: \(failed.keys.sorted().joined(separator: ", "))"))
            }
        }

        var sequence = (ReloadStatus.read(files.statusFile)?.sequence ?? 0)
        var draining = false
        let upgrading = Atomic<Bool>(false)
        while true {
            var info = siginfo_t()
            let received = sigwaitinfo(&signals, &info)
            if received < 0 { continue }  // EINTR
            if received == SIGUSR2 {
                if draining || upgrading.exchange(true, ordering: .relaxed) {
                    logger.warning("SIGUSR2 while \(draining ? "draining" : "upgrading"): upgrade ignored")
                    continue
                }
                let options = self.options
                DispatchQueue.global().async {
                    upgrade(server: server, controller: controller, files: files, lock: lock, options: options, logger: logger)
                    upgrading.store(false, ordering: .relaxed)
                }
                continue
            }
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

    /// SIGUSR2: hands over to a new serve (the binary `berth upgrade` asked
    /// for, else this one's as on disk now). Handed over, this serve stops
    /// accepting, finishes what is in flight (up to `timeouts drain`),
    /// leaves its containers to the new one and exits; otherwise it goes on.
    private func upgrade(server: ProxyServer, controller: Controller, files: RuntimeFiles, lock: PidFileLock,
                         options: ConfigOptions, logger: Logger) {
        let began = Date()
        let request = readJSON(UpgradeRequest.self, from: UpgradeRequest.path(files))
        unlink(UpgradeRequest.path(files))
        let binary = request?.binary ?? HandOff.ownBinary
        logger.notice("SIGUSR2: upgrading", metadata: ["binary": "\(binary)"])
        printOut("[serve] upgrading to \(binary)")
        let outcome = HandOff.run(binary: binary, arguments: Array(CommandLine.arguments.dropFirst()), server: server, lock: lock,
                                  waitForApps: server.config.timeouts.start + 120)
        let seconds = Date().timeIntervalSince(began)
        switch outcome {
        case .failed(let why):
            logger.error("upgrade failed: still serving", metadata: ["error": "\(why)"])
            printOut("[serve] upgrade failed: \(why); still serving")
            do {
                try writeJSONAtomically(UpgradeOutcome(id: request?.id, ok: false, pid: getpid(), message: why, seconds: seconds), to: UpgradeOutcome.path(files))
            } catch {
                logger.error("upgrade status not written", metadata: ["error": "\(error)"])
            }
        case .handedOver(let pid):
            logger.notice("handed over: draining", metadata: ["new_pid": "\(pid)", "took_s": "\(seconds)"])
            do {
                try writeJSONAtomically(UpgradeOutcome(id: request?.id, ok: true, pid: pid, message: "handed over", seconds: seconds), to: UpgradeOutcome.path(files))
            } catch {
                logger.error("upgrade status not written", metadata: ["error": "\(error)"])
            }
            let clean = server.drainAll(timeout: server.config.timeouts.drain)
            controller.detachAll()
            logger.notice(clean ? "drained: exiting, apps left to pid \(pid)" : "drain timeout: closed the rest, exiting")
            lock.handedOver()
            Glibc.exit(0)
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

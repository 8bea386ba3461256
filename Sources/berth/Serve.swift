import ArgumentParser
import BerthConfig
import BerthHost
import BerthImage
import BerthProxy
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

        // Container apps first: build, start, wait until they accept.
        var placements: [String: [Placement]] = [:]
        let host: AppHost? = config.apps.contains(where: { $0.build != nil })
            ? AppHost(store: try options.openStore(), logger: Logger(label: "berth.host"), output: { printOut($0) })
            : nil
        if let host { placements = host.start(config) }
        let server: ProxyServer
        do {
            server = try ProxyServer(config: config, placements: placements, logger: Logger(label: "berth.proxy"))
        } catch {
            host?.stopAll(grace: 10)
            lock.release()
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        server.start()
        printOut("[proxy] listening on \(Self.addresses(server)) with \(server.workerCount) workers: \(Self.routes(config))")
        logger.notice("serving", metadata: ["generation": "1", "pid": "\(getpid())", "pid_file": "\(files.pidFile)"])

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
                reload(server, host: host, files: files, sequence: sequence, logger: logger)
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
                host?.stopAll(grace: 10)
                logger.notice(clean ? "drained: exiting" : "drain timeout: closed the rest, exiting")
                lock.release()
                Glibc.exit(0)
            }
        }
    }

    /// Re-reads the config and applies it; an invalid one changes nothing.
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
            // Running containers keep serving; redeploying changed apps comes later.
            let outcome = try server.apply(config, placements: host?.placements ?? [:])
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            logger.notice("reload applied", metadata: [
                "generation": "\(outcome.generation)", "changes": "\(outcome.diff.summary)",
                "took_ms": "\(Double(Int(ms * 1000)) / 1000)",
            ])
            for what in outcome.diff.needsRestart {
                logger.warning("reload: '\(what)' changed but needs a restart; keeping the running value")
            }
            ReloadStatus(sequence: sequence, applied: true, generation: outcome.generation,
                         message: outcome.diff.summary).write(to: files.statusFile)
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

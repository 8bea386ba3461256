import ArgumentParser
import BerthConfig
import BerthProxy
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `berth serve`: run the proxy on proxy.conf until SIGTERM or SIGINT.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the apps of proxy.conf (routes HTTP by path to their upstreams).")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        LogSetup.bootstrap()
        let logger = Logger(label: "berth")
        let config = try options.load()

        // Signals are taken synchronously by this thread; workers never see them.
        signal(SIGPIPE, SIG_IGN)
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let server: ProxyServer
        do {
            server = try ProxyServer(config: config, logger: Logger(label: "berth.proxy"))
        } catch {
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        server.start()
        let addresses = zip(config.listens, server.ports).map { l, port in
            "\(l.address.host.isEmpty ? "0.0.0.0" : l.address.host):\(port)"
        }.joined(separator: ", ")
        let routes = config.apps.map { "\($0.host ?? "")\($0.path) -> \($0.name)" }.joined(separator: ", ")
        printOut("[proxy] listening on \(addresses) with \(server.workerCount) workers: \(routes.isEmpty ? "no routes" : routes)")

        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            switch received {
            case SIGHUP:
                logger.warning("SIGHUP received: config reload is not implemented yet; keeping the running config")
            default:
                logger.notice("shutting down", metadata: ["signal": "\(received)"])
                server.stop()
                return
            }
        }
    }
}

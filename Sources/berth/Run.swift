import ArgumentParser
import BerthImage
import BerthRuntime
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth run [--rm] [-e K=V] IMAGE [CMD...]`: a one-off container, attached,
/// on its own network namespace; its exit status becomes berth's. Ctrl-C (or
/// SIGTERM) sends it SIGTERM, then SIGKILL after the grace period.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a one-off container from an image; exit with its status.")

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Delete the container's files when it exits.") var rm = false
    @Option(name: .short, help: "KEY=VALUE added to the environment (repeatable).") var env: [String] = []
    @Option(help: "Seconds between SIGTERM and SIGKILL when stopped.") var grace: Double = 5
    @Option(help: "Runtime binary: runc (default) or crun.") var runtime = "runc"
    @Option(help: "isolated (default: its own loopback only) or host (the host's network).") var network = "isolated"
    @Option(name: .customLong("security-opt"), help: "seccomp=unconfined (no seccomp filter), seccomp=default, no-new-privileges[=true|false] (repeatable).")
    var securityOpts: [String] = []
    @Argument(help: "The image.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "The command (default: the image's CMD).") var command: [String] = []

    func run() throws {
        guard network == "isolated" || network == "host" else {
            printError("berth: --network expects isolated or host, got '\(network)'")
            throw ExitCode(125)
        }
        var security = ContainerSecurity.hardened
        for opt in securityOpts {
            switch opt {
            case "seccomp=unconfined", "seccomp:unconfined": security.seccomp = .unconfined
            case "seccomp=default", "seccomp:default": security.seccomp = .default
            case "no-new-privileges", "no-new-privileges=true", "no-new-privileges:true": security.noNewPrivileges = true
            case "no-new-privileges=false", "no-new-privileges:false": security.noNewPrivileges = false
            default:
                printError("berth: --security-opt: expected seccomp=unconfined, seccomp=default or no-new-privileges[=true|false], got '\(opt)'")
                throw ExitCode(125)
            }
        }
        let store = try options.openStore()
        guard let (id, stored) = try store.resolve(image) else {
            printError("berth: no such image: \(image)")
            throw ExitCode(125)
        }
        let process = try cli { () throws(StoreError) in try store.process(for: stored, command: command, env: env) }
        let name = "run-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let container: Container
        do {
            container = try Container(id: name, dir: store.root + "/containers/" + name,
                                      layers: stored.layers.map { store.layerPath($0) },
                                      process: process, hostname: String(id.prefix(12)), network: network == "host" ? .host : .isolated,
                                      security: security,
                                      runc: Runc(binary: runtime, stateRoot: store.root + "/runc"))
        } catch {
            printError("berth: \(error)")
            throw ExitCode(125)
        }
        // berth stops the container itself: runc must not die of Ctrl-C first.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        let runc = container.runc
        for sig in [SIGINT, SIGTERM] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [grace] in
                runc.kill(name, signal: .term)
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) { runc.kill(name, signal: .kill) }
            }
            s.resume()
            sources.append(s)
        }
        let status: Int32
        do {
            status = try container.runAttached()
        } catch {
            printError("berth: \(error)")
            container.remove()
            throw ExitCode(125)
        }
        sources.forEach { $0.cancel() }
        if rm { container.remove() } else { container.unmount() }
        throw ExitCode(status)
    }
}

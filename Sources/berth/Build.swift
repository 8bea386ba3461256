import ArgumentParser
import BerthImage
import Foundation

/// `berth build DIR`: build an image from a Dockerfile, no daemon involved.
struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build an image from a Dockerfile in DIR.")

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The build context directory.") var context: String
    @Option(name: .shortAndLong, help: "The Dockerfile (default: DIR/Dockerfile).") var file: String?
    @Option(name: .shortAndLong, help: "NAME[:TAG] for the image.") var tag: String?
    @Option(name: .customLong("build-arg"), help: "KEY=VALUE for an ARG (repeatable).") var buildArgs: [String] = []
    @Flag(name: .customLong("no-cache"), help: "Run every step again.") var noCache = false
    @Option(help: "Build up to this stage.") var target: String?
    @Option(name: .customLong("insecure-registry"), help: "HOST[:PORT] to pull from over plain HTTP (repeatable; proxy.conf's 'registry HOST insecure' lines count too).")
    var insecureRegistries: [String] = []
    @Option(help: "id=NAME,src=FILE or id=NAME,env=VAR: a secret for RUN --mount=type=secret,id=NAME (repeatable; never stored).")
    var secret: [String] = []

    func run() throws {
        let store = try options.openStore()
        var opts = BuildOptions(context: context)
        opts.dockerfile = file
        opts.tag = tag
        opts.noCache = noCache
        opts.target = target
        opts.insecureRegistries = options.insecureRegistries(insecureRegistries)
        for a in buildArgs {
            guard let eq = a.firstIndex(of: "=") else {
                printError("berth: --build-arg expects KEY=VALUE, got '\(a)'")
                throw ExitCode(1)
            }
            opts.buildArgs[String(a[..<eq])] = String(a[a.index(after: eq)...])
        }
        for s in secret {
            do {
                let (id, value) = try BuildSecret.parse(s)
                opts.secrets[id] = value
            } catch {
                printError("berth: \(error)")
                throw ExitCode(1)
            }
        }
        let start = Date()
        do {
            let id = try Builder(store: store, output: { printOut($0) }).build(opts)
            printOut(String(format: "built sha256:%@ in %.2fs", String(id.prefix(12)), Date().timeIntervalSince(start)))
        } catch {
            printError("berth: build failed: \(error)")
            throw ExitCode(1)
        }
    }
}

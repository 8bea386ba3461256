import ArgumentParser
import BerthImage
import Foundation

/// `berth push NAME [TARGET]`: send a stored image to a registry.
struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Push a stored image to a registry (to TARGET, else to the name it has), with per-layer progress.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "A stored image (berth/web:latest, host:port/path:tag).")
    var image: String

    @Argument(help: "Where to push it: host:port/path:tag (default: IMAGE).")
    var target: String?

    @Option(name: .customLong("insecure-registry"), help: "HOST[:PORT] spoken to over plain HTTP (repeatable; proxy.conf's 'registry HOST insecure' lines count too).")
    var insecureRegistries: [String] = []

    func run() throws {
        let store = try options.openStore()
        do {
            _ = try ImagePush(store: store, insecure: options.insecureRegistries(insecureRegistries), output: { printOut($0) }).push(image, to: target)
        } catch {
            printError("berth: push failed: \(error)")
            throw ExitCode(1)
        }
    }
}

import ArgumentParser
import BerthImage
import Foundation

/// `berth pull NAME`: fetch an image from its registry into the store.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pull an image from a registry (Docker Hub by default) into the store, with per-layer progress.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "ubuntu, user/app:tag, host:port/path:tag or NAME@sha256:...")
    var image: String

    @Option(name: .customLong("insecure-registry"), help: "HOST[:PORT] spoken to over plain HTTP (repeatable; proxy.conf's 'registry HOST insecure' lines count too).")
    var insecureRegistries: [String] = []

    func run() throws {
        let store = try options.openStore()
        do {
            _ = try ImagePull(store: store, insecure: options.insecureRegistries(insecureRegistries), output: { printOut($0) }).pull(image)
        } catch {
            printError("berth: pull failed: \(error)")
            throw ExitCode(1)
        }
    }
}

import ArgumentParser
import BerthImage
import Foundation

/// `berth inspect NAME`: the image config JSON.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an image's config (OCI image config with Docker's Healthcheck, OnBuild and Shell).")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "NAME[:TAG] or image id.") var name: String

    func run() throws {
        let store = try options.openStore()
        guard let (_, image) = try store.resolve(name) else {
            printError("berth: no such image: \(name)")
            throw ExitCode(1)
        }
        printOut(String(decoding: image.config.json(pretty: true), as: UTF8.self))
    }
}

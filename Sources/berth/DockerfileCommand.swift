import ArgumentParser
import BerthImage
import Foundation

/// `berth dockerfile dump FILE`: the parse in BuildKit's Node.Dump format.
struct DockerfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dockerfile",
        abstract: "Inspect Dockerfiles.",
        subcommands: [Dump.self]
    )

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the parse of a Dockerfile as BuildKit's Node.Dump does.")

        @Argument(help: "The Dockerfile.")
        var file: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("berth: cannot read \(file)")
                throw ExitCode(1)
            }
            do {
                let df = try DockerfileParser.parse(String(decoding: data, as: UTF8.self), file: file)
                FileHandle.standardOutput.write(Data(DockerfileDump.dump(df).utf8))
            } catch {
                printError("berth: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

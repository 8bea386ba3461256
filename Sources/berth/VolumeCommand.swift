import ArgumentParser
import BerthRuntime
import Foundation

/// `berth volume ls | inspect | rm | export | import`: the named volumes
/// apps keep their data in (STATE/volumes/NAME). `berth prune` never touches them.
struct VolumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage named volumes.",
        subcommands: [List.self, InspectVolume.self, Remove.self, Export.self, Import.self])

    /// Runs a volume call, printing its error and exiting 1 when it fails.
    static func call<R>(_ body: () throws(RuntimeError) -> R) throws -> R {
        do {
            return try body()
        } catch {
            printError("berth: \(error)")
            throw ExitCode(1)
        }
    }

    static func volumes(_ options: ConfigOptions) throws -> VolumeStore {
        VolumeStore(root: try options.openStore().root + "/volumes")
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes: name, size, whether a container uses one.")
        @OptionGroup var options: ConfigOptions

        func run() throws {
            let v = try VolumeCommand.volumes(options)
            var rows = [["VOLUME NAME", "SIZE", "IN USE"]]
            for name in try VolumeCommand.call({ () throws(RuntimeError) in try v.names() }) {
                let used = try VolumeCommand.call { () throws(RuntimeError) in try v.inUse(name) }
                rows.append([name, Images.size(v.size(name)), used ? "yes" : "no"])
            }
            printTable(rows, gap: "   ")
        }
    }

    struct InspectVolume: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "inspect", abstract: "A volume's name, mount point, size and use, as JSON.")
        @OptionGroup var options: ConfigOptions
        @Argument var name: String

        func run() throws {
            let v = try VolumeCommand.volumes(options)
            guard v.exists(name) else {
                printError("berth: no such volume: \(name)")
                throw ExitCode(1)
            }
            let used = try VolumeCommand.call { () throws(RuntimeError) in try v.inUse(name) }
            let object: [String: String] = ["Name": name, "Mountpoint": v.path(name), "Size": String(v.size(name)), "InUse": used ? "true" : "false"]
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            printOut(String(decoding: try e.encode(object), as: UTF8.self))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a volume and its data (refused while a container uses it).")
        @OptionGroup var options: ConfigOptions
        @Argument var name: String

        func run() throws {
            let v = try VolumeCommand.volumes(options)
            try VolumeCommand.call { () throws(RuntimeError) in try v.remove(name) }
            printOut(name)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write a volume's files as a tar (to stdout without -o).")
        @OptionGroup var options: ConfigOptions
        @Option(name: .shortAndLong, help: "The tar file to write.") var output: String?
        @Argument var name: String

        func run() throws {
            let v = try VolumeCommand.volumes(options)
            try VolumeCommand.call { () throws(RuntimeError) in try v.export(name, to: output ?? "/dev/stdout") }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Fill a new or empty volume from a tar.")
        @OptionGroup var options: ConfigOptions
        @Argument var name: String
        @Argument(help: "A tar made by berth volume export (or any tar).") var tarball: String

        func run() throws {
            let v = try VolumeCommand.volumes(options)
            try VolumeCommand.call { () throws(RuntimeError) in try v.importTar(name, from: tarball) }
            printOut("imported \(name)")
        }
    }
}

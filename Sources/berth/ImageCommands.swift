import ArgumentParser
import BerthImage
import Foundation

/// `berth image import TARBALL NAME:TAG`.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Manage images.", subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Make a one-layer image from a rootfs tarball.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "A tar archive of a root file system.") var tarball: String
        @Argument(help: "NAME[:TAG] for the image.") var name: String

        func run() throws {
            let store = try options.openStore()
            let id = try cli { () throws(StoreError) in try store.importTarball(tarball, as: name) }
            printOut("imported \(ImageStore.normalize(name)) sha256:\(id)")
        }
    }
}

/// `berth images`: name, tag, id, size, created.
struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List images.")
    @OptionGroup var options: ConfigOptions

    func run() throws {
        let store = try options.openStore()
        var rows = [["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "CREATED"]]
        for (ref, id) in try store.tags().sorted(by: { $0.key < $1.key }) {
            guard let image = store.image(id) else { continue }
            let colon = ref.lastIndex(of: ":")!
            rows.append([String(ref[..<colon]), String(ref[ref.index(after: colon)...]), String(id.prefix(12)),
                         Self.size(image.size), image.created])
        }
        printTable(rows, gap: "   ")
    }

    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return String(format: "%.2fGB", Double(bytes) / Double(1 << 30)) }
        if bytes >= 1 << 20 { return String(format: "%.1fMB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return String(format: "%.1fkB", Double(bytes) / Double(1 << 10)) }
        return "\(bytes)B"
    }
}

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

/// `berth rmi NAME`.
struct Rmi: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove an image tag (and the image when no tag is left).")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "NAME[:TAG] or image id.") var name: String

    func run() throws {
        let store = try options.openStore()
        let id = try cli { () throws(StoreError) in try store.remove(name) }
        printOut("untagged \(ImageStore.normalize(name)) (sha256:\(id.prefix(12)))")
    }
}

/// `berth prune`: layers no image uses, and staging leftovers.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete layers no image uses; report the space freed.")
    @OptionGroup var options: ConfigOptions

    func run() throws {
        let store = try options.openStore()
        let freed = try cli { () throws(StoreError) in try store.prune() }
        printOut("freed \(Images.size(freed))")
    }
}

/// Runs a store call, printing its error and exiting 1 when it fails.
func cli<R>(_ body: () throws(StoreError) -> R) throws -> R {
    do {
        return try body()
    } catch {
        printError("berth: \(error)")
        throw ExitCode(1)
    }
}

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

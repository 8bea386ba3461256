import ArgumentParser
import BerthImage
import Foundation

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

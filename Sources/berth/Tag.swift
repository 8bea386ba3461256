import ArgumentParser
import BerthImage
import Foundation

/// `berth tag SOURCE TARGET`: another name for a stored image (as `docker tag`).
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Give a stored image another name (for a push, say).")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "NAME[:TAG] or image id.") var source: String
    @Argument(help: "NAME[:TAG], host:port/path:tag.") var target: String

    func run() throws {
        let store = try options.openStore()
        let id = try cli { () throws(StoreError) in
            guard let (id, _) = try store.resolve(source) else { throw StoreError("no such image: \(source)") }
            _ = try ImageReference(parsing: target)  // a name a registry would take
            try store.tag(target, id)
            return id
        }
        printOut("tagged sha256:\(id.prefix(12)) as \(ImageStore.normalize(target))")
    }
}

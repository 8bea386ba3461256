import ArgumentParser
import BerthImage
import Foundation

/// `berth prune`: layers no image uses, and staging leftovers.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete layers no image uses; report the space freed.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Also delete the RUN --mount=type=cache directories (kept by plain prune).") var cache = false

    func run() throws {
        let store = try options.openStore()
        var freed = try cli { () throws(StoreError) in try store.prune() }
        if cache { freed += try cli { () throws(StoreError) in try store.pruneCacheMounts() } }
        printOut("freed \(Images.size(freed))")
    }
}

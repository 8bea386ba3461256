import ArgumentParser
import BerthImage
import Foundation

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

import ArgumentParser
import BerthConfig

/// `berth check`: validate proxy.conf without serving, like `nginx -t`;
/// `--directives` prints every directive the parser accepts, from its tables.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the config file and exit 0 (valid) or 1; --directives lists every directive.")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Print every proxy.conf directive (block, name, values, meaning) instead of checking a file.")
    var directives = false

    func run() throws {
        if directives {
            printTable(Self.directiveRows(), gap: "  ")
            return
        }
        let config = try options.load()
        let apps = config.apps.map { "\($0.name) \($0.host.map { "\($0)" } ?? "")\($0.path)" }.joined(separator: ", ")
        printOut("\(options.configPath): ok: \(config.listens.count) listen, \(config.apps.count) apps (\(apps))")
    }

    /// The reference, one row per directive (`*` marks the repeatable ones).
    static func directiveRows() -> [[String]] {
        [["BLOCK", "DIRECTIVE", "VALUES", "MEANING"]]
            + ConfigReference.directives.map { [$0.block, $0.name + ($0.repeatable ? " *" : ""), $0.values, $0.summary] }
    }
}

import ArgumentParser
import BerthConfig

/// `berth check`: validate proxy.conf without serving, like `nginx -t`.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the config file and exit 0 (valid) or 1.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let apps = config.apps.map { "\($0.name) \($0.host.map { "\($0)" } ?? "")\($0.path)" }.joined(separator: ", ")
        printOut("\(options.configPath): ok: \(config.listens.count) listen, \(config.apps.count) apps (\(apps))")
    }
}

import ArgumentParser
import BerthConfig

#if canImport(Glibc)
import Glibc
#endif

/// `--config` and `--state-dir`, resolved in the documented order:
/// flag, then environment (BERTH_CONFIG, BERTH_STATE_DIR), then default.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The config file (default: $BERTH_CONFIG, else ./proxy.conf).")
    var config: String?

    @Option(name: .long, help: "The state directory (default: $BERTH_STATE_DIR, else proxy.conf's state-dir, else /var/lib/berth).")
    var stateDir: String?

    var configPath: String {
        if let config { return config }
        if let env = getenv("BERTH_CONFIG"), env.pointee != 0 { return String(cString: env) }
        return "proxy.conf"
    }

    /// Loads the config, printing a located error and exiting 1 when it is invalid.
    func load(into cache: ConfigCacheBox? = nil) throws -> Config {
        do {
            if let cache { return try cache.load(path: configPath).0 }
            return try Config.load(path: configPath)
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func printOut(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

import ArgumentParser
import BerthConfig
import BerthImage

#if canImport(Glibc)
import Glibc
#endif

extension ConfigOptions {
    /// The state dir: --state-dir, $BERTH_STATE_DIR, proxy.conf's state-dir, /var/lib/berth.
    var resolvedStateDir: String {
        if let stateDir { return stateDir }
        if let env = getenv("BERTH_STATE_DIR"), env.pointee != 0 { return String(cString: env) }
        if let config = try? Config.load(path: configPath), let s = config.stateDir { return s }
        return "/var/lib/berth"
    }

    /// The image store in the state dir, or exit 1 with why not.
    func openStore() throws -> ImageStore {
        do {
            return try ImageStore(root: resolvedStateDir)
        } catch {
            printError("berth: \(error)")
            throw ExitCode(1)
        }
    }
}

extension ConfigOptions {
    /// `--insecure-registry` values plus proxy.conf's `registry HOST insecure` lines (when it loads).
    func insecureRegistries(_ flags: [String]) -> Set<String> {
        Set(flags).union((try? Config.load(path: configPath))?.insecureRegistries ?? [])
    }
}

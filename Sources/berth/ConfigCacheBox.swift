import BerthConfig
import Synchronization

/// serve's parse cache, kept from the first load to each reload (reloads run
/// one at a time on the control queue; the lock makes that checkable).
final class ConfigCacheBox: Sendable {
    private let cache = Mutex(ConfigParseCache())

    /// Loads the config at `path`, reusing unchanged app blocks of the last good load.
    func load(path: String) throws(ConfigError) -> (Config, reused: Int) {
        try cache.withLock { (c: inout ConfigParseCache) throws(ConfigError) -> (Config, reused: Int) in
            let config = try Config.load(path: path, reusing: &c)
            return (config, c.reused)
        }
    }
}

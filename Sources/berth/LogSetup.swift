import Logging

#if canImport(Glibc)
import Glibc
#endif

/// swift-log to standard error, one line per event; BERTH_LOG_LEVEL sets the level.
enum LogSetup {
    static func bootstrap() {
        let level = getenv("BERTH_LOG_LEVEL").flatMap { Logger.Level(rawValue: String(cString: $0)) } ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}

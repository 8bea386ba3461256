import Logging

#if canImport(Glibc)
import Glibc
#endif

/// swift-log to standard error, one line per event with a millisecond UTC
/// timestamp (reload timings are read off these); BERTH_LOG_LEVEL sets the level.
enum LogSetup {
    static func bootstrap() {
        let level = getenv("BERTH_LOG_LEVEL").flatMap { Logger.Level(rawValue: String(cString: $0)) } ?? .info
        LoggingSystem.bootstrap { label in
            var h = LineLogHandler(label: label)
            h.logLevel = level
            return h
        }
    }
}

/// `2026-11-29T16:30:00.123Z notice berth: reload applied generation=2`
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        if let error = event.error { all["error"] = "\(error)" }
        var text = "\(Self.timestamp()) \(event.level) \(label): \(event.message)"
        for (k, v) in all.sorted(by: { $0.key < $1.key }) {
            let value = "\(v)"
            text += value.contains(" ") ? " \(k)=\"\(value)\"" : " \(k)=\(value)"
        }
        text += "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(tm.tm_year + 1900)-\(pad(tm.tm_mon + 1))-\(pad(tm.tm_mday))T\(pad(tm.tm_hour)):\(pad(tm.tm_min)):\(pad(tm.tm_sec)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}

import Foundation

/// The value shapes directives share (one value, a block, on/off, a path,
/// an address, a duration, a size, a bounded number), each checked with the
/// error an operator gets at the value's file:line:col.
enum ConfigValues {
    /// The directive's single value.
    static func one(_ s: ConfigStatement, _ expected: String) throws(ConfigError) -> ConfigWord {
        guard let v = s.args.first else {
            throw ConfigError(s.afterLast, "\(s.nameText): missing value: expected \(expected)")
        }
        if s.args.count > 1 {
            throw ConfigError(s.args[1].location, "\(s.nameText): unexpected extra value \(s.args[1].display) (expected only \(expected))")
        }
        return v
    }

    /// The statements inside a block directive (`timeouts {`); `app NAME {` takes a value first.
    static func block(_ s: ConfigStatement, allowsValues: Bool = false) throws(ConfigError) -> [ConfigStatement] {
        if let extra = s.args.first, !allowsValues {
            throw ConfigError(extra.location, "\(s.nameText): unexpected value \(extra.display) (expected '{')")
        }
        guard let b = s.block else { throw ConfigError(s.afterLast, "\(s.nameText): expected '{' to open a block") }
        return b
    }

    static func onOff(_ d: ConfigStatement) throws(ConfigError) -> Bool {
        let v = try one(d, "'on' or 'off'")
        guard let b = ConfigValue.onOff(v.text) else { throw ConfigError(v.location, "\(d.nameText): expected 'on' or 'off', got \(v.display)") }
        return b
    }

    /// A value from a fixed set (`network isolated|host`, `balance ...`).
    static func choice<T: RawRepresentable>(_ d: ConfigStatement, _ expected: String, as: T.Type) throws(ConfigError) -> T where T.RawValue == String {
        let v = try one(d, expected)
        guard let c = T(rawValue: v.text) else { throw ConfigError(v.location, "\(d.nameText): expected \(expected), got \(v.display)") }
        return c
    }

    /// A whole number in `range`.
    static func number(_ d: ConfigStatement, _ what: String, in range: ClosedRange<Int>, expected: String) throws(ConfigError) -> Int {
        let v = try one(d, what)
        guard let n = Int(v.text), range.contains(n) else {
            throw ConfigError(v.location, "\(d.nameText): expected \(expected), got \(v.display)")
        }
        return n
    }

    static func path(_ t: ConfigWord, keepTrailingSlash: Bool = false) throws(ConfigError) -> String {
        var p = t.text
        // Bytes, not Characters: ASCII, no query or fragment, no space or control.
        guard p.utf8.first == UInt8(ascii: "/"), !p.utf8.contains(where: { $0 == 0x3F || $0 == 0x23 || $0 <= 0x20 || $0 >= 0x7F }) else {
            throw ConfigError(t.location, "expected a path starting with '/', like /ruby, got \(t.display)")
        }
        if !keepTrailingSlash { while p.utf8.count > 1 && p.utf8.last == UInt8(ascii: "/") { p.removeLast() } }
        return p
    }

    static func address(_ t: ConfigWord, directive: String, defaultPort: Int? = nil) throws(ConfigError) -> HostPort {
        guard let hp = HostPort.parse(t.text, defaultPort: defaultPort) else {
            throw ConfigError(t.location, "\(directive): expected an address like :8080, 127.0.0.1:8080 or [::1]:8080, got \(t.display)")
        }
        return hp
    }

    static func duration(_ s: ConfigStatement) throws(ConfigError) -> Double {
        let v = try one(s, "a duration like 250ms, 5s or 2m")
        guard let d = ConfigValue.duration(v.text) else {
            throw ConfigError(v.location, "\(s.nameText): expected a duration like 250ms, 5s or 2m, got \(v.display)")
        }
        return d
    }

    static func size(_ s: ConfigStatement) throws(ConfigError) -> Int {
        let v = try one(s, "a size like 512K, 256M or 1G")
        guard let n = ConfigValue.size(v.text) else {
            throw ConfigError(v.location, "\(s.nameText): expected a size like 512K, 256M or 1G, got \(v.display)")
        }
        return n
    }
}

extension ConfigValues {
    /// `path` as written in the config at `location`: absolute, or relative
    /// to the directory of that config file.
    static func relativeToConfig(_ path: String, at location: SourceLocation) -> String {
        if path.hasPrefix("/") { return path }
        let dir = URL(fileURLWithPath: location.file).deletingLastPathComponent().path
        return URL(fileURLWithPath: dir).appendingPathComponent(path).standardizedFileURL.path
    }
}

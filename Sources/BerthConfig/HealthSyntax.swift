/// `health GET /path interval 2s timeout 1s fall 3 rise 2`.
enum HealthSyntax {
    static let options = ["interval", "timeout", "fall", "rise"]

    static func parse(_ s: ConfigStatement) throws(ConfigError) -> HealthCheck {
        var h = HealthCheck()
        var args = s.args[...]
        guard let method = args.popFirst() else {
            throw ConfigError(s.afterLast, "health: expected a method and path, like 'health GET / interval 2s timeout 1s', or 'health exec CMD...'")
        }
        if method.text == "exec" {
            // The command runs up to the first option name (interval, timeout, fall, rise).
            var command: [String] = []
            while let w = args.first, !options.contains(w.text) {
                command.append(w.text)
                args = args.dropFirst()
            }
            if command.isEmpty { throw ConfigError(method.location, "health exec: expected a command, like 'health exec pg_isready -U app'") }
            h.command = command
        } else {
            guard method.text.allSatisfy({ $0.isUppercase && $0.isLetter }) else {
                throw ConfigError(method.location, "health: expected a method like GET, got \(method.display)")
            }
            h.method = method.text
            guard let p = args.popFirst() else { throw ConfigError(s.afterLast, "health: expected a path after the method, like /health") }
            h.path = try ConfigValues.path(p, keepTrailingSlash: true)
        }
        while let key = args.popFirst() {
            guard let value = args.popFirst() else {
                throw ConfigError(s.afterLast, "health: expected a value after \(key.display)")
            }
            switch key.text {
            case "interval", "timeout":
                guard let d = ConfigValue.duration(value.text), d > 0 else {
                    throw ConfigError(value.location, "health: \(key.text) expects a duration like 250ms, 5s or 2m, got \(value.display)")
                }
                if key.text == "interval" { h.interval = d } else { h.timeout = d }
            case "fall", "rise":
                guard let n = Int(value.text), n >= 1, n <= 100 else {
                    throw ConfigError(value.location, "health: \(key.text) expects a count from 1 to 100, got \(value.display)")
                }
                if key.text == "fall" { h.fall = n } else { h.rise = n }
            default:
                let hint = DirectiveSuggestion.nearest(to: key.text, in: options)
                throw ConfigError(key.location, "health: unknown option \(key.display)" + (hint.map { " (did you mean '\($0)'?)" } ?? " (expected interval, timeout, fall or rise)"))
            }
        }
        return h
    }
}

/// `limits { }`.
enum LimitDirectives {
    static let table = DirectiveTable<Limits>(block: "limits", context: "in 'limits'", rows: [
        ConfigDirective("header-size", "SIZE", "request line plus headers, 1K to 1M; over it 431 (default 32K)") {
            (l: inout Limits, d: ConfigStatement) throws(ConfigError) in
            l.headerSize = try ConfigValues.size(d)
            if l.headerSize < 1024 || l.headerSize > 1 << 20 {
                throw ConfigError(d.args[0].location, "header-size: expected a size from 1K to 1M")
            }
        },
        ConfigDirective("body-size", "SIZE", "a request body; over it 413 (default 64M)") {
            (l: inout Limits, d: ConfigStatement) throws(ConfigError) in
            l.bodySize = try ConfigValues.size(d)
        },
        ConfigDirective("connections", "N", "open client connections per process; over it new ones wait (default 10000)") {
            (l: inout Limits, d: ConfigStatement) throws(ConfigError) in
            l.connections = try ConfigValues.number(d, "a number of connections", in: 1...Int.max, expected: "a positive number")
        },
    ])
}

/// `timeouts { }`: one duration per directive.
enum TimeoutDirectives {
    static func row(_ name: String, _ summary: String, _ field: WritableKeyPath<Timeouts, Double> & Sendable) -> ConfigDirective<Timeouts> {
        ConfigDirective(name, "DURATION", summary) { (t: inout Timeouts, d: ConfigStatement) throws(ConfigError) in
            t[keyPath: field] = try ConfigValues.duration(d)
        }
    }

    static let table = DirectiveTable<Timeouts>(block: "timeouts", context: "in 'timeouts'", rows: [
        row("connect", "connecting to an upstream (default 5s)", \.connect),
        row("header", "a client's whole request head (default 10s)", \.header),
        row("idle", "keep-alive between requests (default 60s)", \.idle),
        row("upstream", "waiting on an upstream's response, between bytes (default 60s)", \.upstream),
        row("drain", "finishing in-flight requests on SIGTERM, and old versions on a redeploy (default 30s)", \.drain),
        row("start", "holding a request while its app starts (default 30s)", \.start),
        row("tunnel-drain", "keeping an old version's WebSocket and Upgrade tunnels on a redeploy (default 1h)", \.tunnelDrain),
        row("tunnel-drain-spread", "the window those still open then are closed over, 1012 for a WebSocket (default 30s)", \.tunnelDrainSpread),
    ])
}

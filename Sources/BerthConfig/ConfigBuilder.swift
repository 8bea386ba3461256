/// Gives meaning to the statement tree: the top-level directive table (and
/// through it each block's), then the checks that span directives.
struct ConfigBuilder {
    /// A top-level statement, or an app a reload takes from the last parse
    /// (by its index there) because its block's bytes and place are unchanged.
    enum Item {
        case statement(ConfigStatement)
        case app(Int)
    }

    let file: String

    func build(_ statements: [ConfigStatement]) throws(ConfigError) -> Config {
        var draft = ConfigDraft(config: Config(file: file))
        try TopLevelDirectives.table.apply(statements, to: &draft)
        return try checked(draft.config)
    }

    func build(_ items: [Item], reusing apps: [AppConfig]) throws(ConfigError) -> Config {
        var draft = ConfigDraft(config: Config(file: file))
        draft.reserve(items.count)
        var progress = DirectiveTable<ConfigDraft>.Progress()
        for item in items {
            switch item {
            case .statement(let s): try TopLevelDirectives.table.apply(s, to: &draft, progress: &progress)
            case .app(let i): try draft.add(apps[i])
            }
        }
        return try checked(draft.config)
    }

    /// The checks across directives, once the whole file is read.
    private func checked(_ config: Config) throws(ConfigError) -> Config {
        var config = config
        if config.listens.isEmpty {
            throw ConfigError(SourceLocation(file: file, line: 1, column: 1), "no 'listen' directive: expected at least one, like 'listen :8080'")
        }
        var listenSeen: [HostPort: SourceLocation] = [:]
        for l in config.listens {
            if let first = listenSeen[l.address] {
                throw ConfigError(l.location, "duplicate listen \(l.address) (first at \(first))")
            }
            listenSeen[l.address] = l.location
            if let t = l.tls, t.cert == nil, !t.auto, config.tlsSites.isEmpty {
                throw ConfigError(l.location, "listen \(l.address) tls: no cert=FILE key=FILE and no 'tls { cert HOST FILE KEY }' block to take certificates from")
            }
        }
        try LinkChecks.check(&config.apps)
        if (config.redirectHTTPS || config.apps.contains { $0.redirectHTTPS == true }) && !config.listens.contains(where: { $0.tls != nil }) {
            throw ConfigError(SourceLocation(file: file, line: 1, column: 1), "redirect-https is on but no 'listen ... tls' line serves HTTPS")
        }
        return config
    }
}

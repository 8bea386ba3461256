/// Gives meaning to the statement tree: the top-level directive table (and
/// through it each block's), then the checks that span directives.
struct ConfigBuilder {
    let file: String

    func build(_ statements: [ConfigStatement]) throws(ConfigError) -> Config {
        var draft = ConfigDraft(config: Config(file: file))
        try TopLevelDirectives.table.apply(statements, to: &draft)
        let config = draft.config
        if config.listens.isEmpty {
            throw ConfigError(SourceLocation(file: file, line: 1, column: 1), "no 'listen' directive: expected at least one, like 'listen :8080'")
        }
        var listenSeen: [HostPort: SourceLocation] = [:]
        for l in config.listens {
            if let first = listenSeen[l.address] {
                throw ConfigError(l.location, "duplicate listen \(l.address) (first at \(first))")
            }
            listenSeen[l.address] = l.location
            if let t = l.tls, t.cert == nil, config.tlsSites.isEmpty {
                throw ConfigError(l.location, "listen \(l.address) tls: no cert=FILE key=FILE and no 'tls { cert HOST FILE KEY }' block to take certificates from")
            }
        }
        if (config.redirectHTTPS || config.apps.contains { $0.redirectHTTPS == true }) && !config.listens.contains(where: { $0.tls != nil }) {
            throw ConfigError(SourceLocation(file: file, line: 1, column: 1), "redirect-https is on but no 'listen ... tls' line serves HTTPS")
        }
        return config
    }
}

/// `tls { cert HOST CERT KEY ... default HOST }`: certificates by server name (SNI).
enum TLSDirectives {
    /// What the block sets.
    struct Block {
        var sites: [TLSSite] = []
        var defaultHost: String?
        var autoNames: [String] = []
    }

    static let table = DirectiveTable<Block>(block: "tls", context: "in 'tls'", rows: [
        ConfigDirective("cert", "HOST CERT_FILE KEY_FILE", "the certificate chain and key for one server name", repeatable: true) {
            (b: inout Block, d: ConfigStatement) throws(ConfigError) in
            guard d.args.count == 3 else { throw ConfigError(d.afterLast, "cert: expected HOST CERT_FILE KEY_FILE") }
            let host = d.args[0].text.lowercased()
            if let first = b.sites.first(where: { $0.host == host }) {
                throw ConfigError(d.args[0].location, "tls: duplicate cert for \(d.args[0].text) (first at \(first.location))")
            }
            b.sites.append(TLSSite(host: host, cert: d.args[1].text, key: d.args[2].text, location: d.name.location))
        },
        ConfigDirective("auto", "NAME...", "more names 'tls auto' listeners get certificates for (besides the apps' hosts)", repeatable: true) {
            (b: inout Block, d: ConfigStatement) throws(ConfigError) in
            if d.args.isEmpty { throw ConfigError(d.afterLast, "auto: expected one or more host names") }
            for w in d.args {
                guard let hp = HostPort.parse(w.text, defaultPort: 0), !hp.host.isEmpty, hp.port == 0 else {
                    throw ConfigError(w.location, "auto: expected a host name like example.com, got \(w.display)")
                }
                b.autoNames.append(hp.host.lowercased())
            }
        },
        ConfigDirective("default", "HOST", "the certificate for clients with no or an unknown name (default: the first)") {
            (b: inout Block, d: ConfigStatement) throws(ConfigError) in
            b.defaultHost = try ConfigValues.one(d, "a host named by a cert line").text.lowercased()
        },
    ])

    /// The block's certificates, checked as a whole.
    static func parse(_ s: ConfigStatement) throws(ConfigError) -> Block {
        var b = Block()
        try table.apply(try ConfigValues.block(s), to: &b)
        guard !b.sites.isEmpty || !b.autoNames.isEmpty else {
            throw ConfigError(s.name.location, "tls: expected at least one 'cert HOST CERT_FILE KEY_FILE' or 'auto NAME...'")
        }
        if let def = b.defaultHost, !b.sites.contains(where: { $0.host == def }) {
            throw ConfigError(s.name.location, "tls: default \(def) has no cert line")
        }
        return b
    }
}

/// `acme { email ... directory ... ca-root ... challenge ... key-type ... }`.
enum ACMEDirectives {
    static let table = DirectiveTable<ACMEConfig>(block: "acme", context: "in 'acme'", rows: [
        ConfigDirective("email", "ADDRESS", "the account's contact (the CA writes about expiring certificates)") {
            (a: inout ACMEConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "an e-mail address like ops@example.com")
            guard v.text.contains("@"), !v.text.contains(where: \.isWhitespace) else {
                throw ConfigError(v.location, "email: expected an e-mail address like ops@example.com, got \(v.display)")
            }
            a.email = v.text
        },
        ConfigDirective("directory", "URL|staging", "the CA's ACME directory (default Let's Encrypt; 'staging' for its staging CA)") {
            (a: inout ACMEConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "an https:// directory URL or 'staging'")
            if v.text == "staging" {
                a.directory = ACMEConfig.letsEncryptStaging
            } else {
                guard v.text.hasPrefix("https://") else {
                    throw ConfigError(v.location, "directory: expected an https:// URL or 'staging', got \(v.display)")
                }
                a.directory = v.text
            }
        },
        ConfigDirective("ca-root", "FILE", "PEM certificates trusted for the ACME server itself (relative to proxy.conf)") {
            (a: inout ACMEConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "a PEM file")
            a.caRoot = ConfigValues.relativeToConfig(v.text, at: v.location)
        },
        ConfigDirective("challenge", "tls-alpn-01|http-01...", "the challenges to answer, in order (default tls-alpn-01 http-01)") {
            (a: inout ACMEConfig, d: ConfigStatement) throws(ConfigError) in
            if d.args.isEmpty { throw ConfigError(d.afterLast, "challenge: expected http-01") }
            var list: [ACMEConfig.Challenge] = []
            for w in d.args {
                guard let c = ACMEConfig.Challenge(rawValue: w.text) else {
                    throw ConfigError(w.location, "challenge: expected http-01 or tls-alpn-01, got \(w.display)")
                }
                list.append(c)
            }
            a.challenges = list
        },
        ConfigDirective("on-demand", "ask URL [per-hour N]", "names not in the config get a certificate at their first handshake if URL?domain=NAME answers 2xx (at most N new names an hour, default 10)") {
            (a: inout ACMEConfig, d: ConfigStatement) throws(ConfigError) in
            guard d.args.count == 2 || d.args.count == 4, d.args[0].text == "ask" else {
                throw ConfigError(d.args.first?.location ?? d.afterLast, "on-demand: expected 'ask URL [per-hour N]'")
            }
            let url = d.args[1].text
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigError(d.args[1].location, "on-demand: expected an http:// or https:// URL to ask, got \(d.args[1].display)")
            }
            a.onDemandAsk = url
            if d.args.count == 4 {
                guard d.args[2].text == "per-hour", let n = Int(d.args[3].text), (1...10_000).contains(n) else {
                    throw ConfigError(d.args[2].location, "on-demand: expected 'per-hour N' with N from 1 to 10000")
                }
                a.onDemandPerHour = n
            }
        },
        ConfigDirective("key-type", "p256|rsa2048", "the certificates' key type (default p256: ECDSA P-256)") {
            (a: inout ACMEConfig, d: ConfigStatement) throws(ConfigError) in
            a.keyType = try ConfigValues.choice(d, "'p256' or 'rsa2048'", as: ACMEConfig.KeyType.self)
        },
    ])

    static func parse(_ s: ConfigStatement) throws(ConfigError) -> ACMEConfig {
        var a = ACMEConfig()
        try table.apply(try ConfigValues.block(s), to: &a)
        return a
    }
}

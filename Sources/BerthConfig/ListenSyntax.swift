/// `listen ADDR [h2c | tls [auto | cert=F key=F] [tls-min=1.2|1.3] [h2=on|off]]`.
enum ListenSyntax {
    static func parse(_ s: ConfigStatement) throws(ConfigError) -> ListenConfig {
        guard let first = s.args.first else {
            throw ConfigError(s.afterLast, "listen: expected an address like :8080 or 127.0.0.1:8080")
        }
        let addr = try ConfigValues.address(first, directive: "listen")
        var l = ListenConfig(address: addr, tls: nil, location: s.name.location)
        guard s.args.count > 1 else { return l }
        if s.args[1].text == "h2c" {
            guard s.args.count == 2 else {
                throw ConfigError(s.args[2].location, "listen: unexpected extra value \(s.args[2].display) after h2c (an h2c listener is plain HTTP)")
            }
            l.h2c = true
            return l
        }
        if s.args.count == 2 && s.args[1].text == "tls" {
            l.tls = ListenConfig.TLS(cert: nil, key: nil)  // certificates from the tls { } block
            return l
        }
        guard s.args[1].text == "tls" else {
            throw ConfigError(s.args[1].location, "listen: unexpected extra value \(s.args[1].display) (expected 'tls cert=FILE key=FILE', 'h2c' or nothing)")
        }
        var cert: String?, key: String?, minVersion: String?, auto = false, h2 = true
        for a in s.args.dropFirst(2) {
            let w = a.text
            if w == "auto" {
                auto = true
            } else if w.hasPrefix("cert=") { cert = String(w.dropFirst(5)) }
            else if w.hasPrefix("key=") { key = String(w.dropFirst(4)) }
            else if w.hasPrefix("tls-min=") {
                let v = String(w.dropFirst(8))
                guard v == "1.2" || v == "1.3" else { throw ConfigError(a.location, "listen: tls-min expects 1.2 or 1.3, got '\(v)'") }
                minVersion = v
            } else if w == "h2=on" || w == "h2=off" {
                h2 = w == "h2=on"
            } else {
                throw ConfigError(a.location, "listen: unexpected TLS option \(a.display) (expected auto, cert=FILE, key=FILE, tls-min=1.2|1.3 or h2=on|off)")
            }
        }
        if auto {
            guard cert == nil && key == nil else {
                throw ConfigError(s.args[1].location, "listen: tls auto takes its certificates from the acme CA: no cert= or key= with it (a 'tls { cert HOST ... }' line still wins for its name)")
            }
            l.tls = ListenConfig.TLS(cert: nil, key: nil, minVersion: minVersion, auto: true)
            l.tls?.h2 = h2
            return l
        }
        if cert == nil && key == nil {
            l.tls = ListenConfig.TLS(cert: nil, key: nil, minVersion: minVersion)
            l.tls?.h2 = h2
            return l
        }
        guard let cert, !cert.isEmpty else { throw ConfigError(s.afterLast, "listen: tls needs cert=FILE with key=FILE") }
        guard let key, !key.isEmpty else { throw ConfigError(s.afterLast, "listen: tls needs key=FILE with cert=FILE") }
        l.tls = ListenConfig.TLS(cert: cert, key: key, minVersion: minVersion)
        l.tls?.h2 = h2
        return l
    }
}

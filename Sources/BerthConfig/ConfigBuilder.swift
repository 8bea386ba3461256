/// Gives meaning to the statement tree: one function per block kind, each
/// directive checked for its value count and syntax.
struct ConfigBuilder {
    let file: String

    func build(_ statements: [ConfigStatement]) throws(ConfigError) -> Config {
        var config = Config(file: file)
        var seen: [String: SourceLocation] = [:]
        var appsByName: [String: AppConfig] = [:]
        for s in statements {
            try checkKnown(s, ConfigParser.topLevel, context: "at the top level")
            try checkOnce(s, &seen)
            switch s.nameText {
            case "listen":
                try noBlock(s)
                config.listens.append(try listen(s))
            case "workers":
                try noBlock(s)
                let v = try one(s, "'auto' or a number of threads")
                if v.word == "auto" {
                    config.workers = .auto
                } else if let n = Int(v.word!), n >= 1, n <= 1024 {
                    config.workers = .count(n)
                } else {
                    throw ConfigError(v.location, "workers: expected 'auto' or a number of threads from 1 to 1024, got \(v.display)")
                }
            case "registry":
                try noBlock(s)
                guard s.args.count == 2, let host = s.args[0].word, s.args[1].word == "insecure" else {
                    throw ConfigError(s.name.location, "registry: expected 'registry HOST[:PORT] insecure' (plain HTTP to that registry)")
                }
                config.insecureRegistries.insert(host)
            case "runtime":
                try noBlock(s)
                let v = try one(s, "'runc' or 'crun'")
                guard v.word == "runc" || v.word == "crun" else {
                    throw ConfigError(v.location, "runtime: expected 'runc' or 'crun', got \(v.display)")
                }
                config.runtime = v.word!
            case "state-dir":
                try noBlock(s)
                config.stateDir = try one(s, "a directory").word!
            case "access-log":
                try noBlock(s)
                let v = try one(s, "'stdout', 'off' or a file path").word!
                config.accessLog = v == "stdout" ? .stdout : v == "off" ? .off : .file(v)
            case "admin":
                try noBlock(s)
                let v = try one(s, "an address like 127.0.0.1:9901")
                let a = try address(v, directive: "admin")
                // Metrics are not for the world: every-address needs to be written out.
                if a.host.isEmpty {
                    throw ConfigError(v.location, "admin: \(v.display) would listen on every address; expected 127.0.0.1:\(a.port) (or write 0.0.0.0:\(a.port) to mean it)")
                }
                config.admin = a
            case "timeouts":
                config.timeouts = try timeouts(s)
            case "tls":
                (config.tlsSites, config.tlsDefault) = try tlsBlock(s)
            case "redirect-https":
                try noBlock(s)
                config.redirectHTTPS = try onOff(s, "redirect-https")
            case "limits":
                config.limits = try limits(s)
            case "app":
                let app = try self.app(s)
                if let first = appsByName[app.name] {
                    throw ConfigError(s.args[0].location, "duplicate app '\(app.name)' (first defined at \(first.location))")
                }
                for other in config.apps where other.host == app.host && other.path == app.path {
                    let hostText = app.host.map { "host \($0) and " } ?? ""
                    throw ConfigError(app.location, "app '\(app.name)' routes the same \(hostText)path \(app.path) as app '\(other.name)' (defined at \(other.location))")
                }
                appsByName[app.name] = app
                config.apps.append(app)
            default:
                break
            }
        }
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

    // MARK: - blocks

    private func timeouts(_ s: ConfigStatement) throws(ConfigError) -> Timeouts {
        var t = Timeouts()
        var seen: [String: SourceLocation] = [:]
        for d in try block(s) {
            try checkKnown(d, ConfigParser.timeoutNames, context: "in 'timeouts'")
            try checkOnce(d, &seen)
            try noBlock(d)
            let v = try duration(d)
            switch d.nameText {
            case "connect": t.connect = v
            case "header": t.header = v
            case "idle": t.idle = v
            case "upstream": t.upstream = v
            case "drain": t.drain = v
            default: t.start = v
            }
        }
        return t
    }

    /// `tls { cert HOST CERT KEY ... default HOST }`: certificates by server name (SNI).
    private func tlsBlock(_ s: ConfigStatement) throws(ConfigError) -> ([TLSSite], String?) {
        var sites: [TLSSite] = []
        var def: String?
        for d in try block(s) {
            try checkKnown(d, ConfigParser.tlsNames, context: "in 'tls'")
            try noBlock(d)
            switch d.nameText {
            case "cert":
                guard d.args.count == 3, let host = d.args[0].word, let cert = d.args[1].word, let key = d.args[2].word else {
                    throw ConfigError(d.afterLast, "cert: expected HOST CERT_FILE KEY_FILE")
                }
                if let first = sites.first(where: { $0.host == host.lowercased() }) {
                    throw ConfigError(d.args[0].location, "tls: duplicate cert for \(host) (first at \(first.location))")
                }
                sites.append(TLSSite(host: host.lowercased(), cert: cert, key: key, location: d.name.location))
            default:
                let v = try one(d, "a host named by a cert line")
                def = v.word!.lowercased()
            }
        }
        guard !sites.isEmpty else { throw ConfigError(s.name.location, "tls: expected at least one 'cert HOST CERT_FILE KEY_FILE'") }
        if let def, !sites.contains(where: { $0.host == def }) {
            throw ConfigError(s.name.location, "tls: default \(def) has no cert line")
        }
        return (sites, def)
    }

    private func onOff(_ d: ConfigStatement, _ name: String) throws(ConfigError) -> Bool {
        let v = try one(d, "'on' or 'off'")
        guard let b = ConfigValue.onOff(v.word!) else { throw ConfigError(v.location, "\(name): expected 'on' or 'off', got \(v.display)") }
        return b
    }

    private func limits(_ s: ConfigStatement) throws(ConfigError) -> Limits {
        var l = Limits()
        var seen: [String: SourceLocation] = [:]
        for d in try block(s) {
            try checkKnown(d, ConfigParser.limitNames, context: "in 'limits'")
            try checkOnce(d, &seen)
            try noBlock(d)
            switch d.nameText {
            case "header-size":
                l.headerSize = try size(d)
                if l.headerSize < 1024 || l.headerSize > 1 << 20 {
                    throw ConfigError(d.args[0].location, "header-size: expected a size from 1K to 1M")
                }
            case "body-size":
                l.bodySize = try size(d)
            default:
                let v = try one(d, "a number of connections")
                guard let n = Int(v.word!), n >= 1 else {
                    throw ConfigError(v.location, "connections: expected a positive number, got \(v.display)")
                }
                l.connections = n
            }
        }
        return l
    }

    private func app(_ s: ConfigStatement) throws(ConfigError) -> AppConfig {
        guard let nameTok = s.args.first else {
            throw ConfigError(s.afterLast, "app: expected a name, like 'app ruby {'")
        }
        if s.args.count > 1 {
            throw ConfigError(s.args[1].location, "app: unexpected extra value \(s.args[1].display) (expected 'app NAME {')")
        }
        let name = nameTok.word!
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ConfigError(nameTok.location, "app: expected a name of letters, digits, '-', '_' or '.', got \(nameTok.display)")
        }
        var app = AppConfig(name: name, location: nameTok.location)
        var seen: [String: SourceLocation] = [:]
        for d in try block(s) {
            try checkKnown(d, ConfigParser.appNames, context: "in an app block")
            try checkOnce(d, &seen)
            if d.nameText != "health" { try noBlock(d) }
            switch d.nameText {
            case "path":
                let v = try one(d, "a path like /ruby")
                app.path = try path(v)
            case "host":
                let v = try one(d, "a host name like example.com")
                guard let hp = HostPort.parse(v.word!, defaultPort: 0), !hp.host.isEmpty else {
                    throw ConfigError(v.location, "host: expected a host name like example.com, got \(v.display)")
                }
                app.host = hp.host.lowercased()
            case "redirect-https":
                app.redirectHTTPS = try onOff(d, "redirect-https")
            case "strip-prefix":
                let v = try one(d, "'on' or 'off'")
                guard let b = ConfigValue.onOff(v.word!) else {
                    throw ConfigError(v.location, "strip-prefix: expected 'on' or 'off', got \(v.display)")
                }
                app.stripPrefix = b
            case "build":
                app.build = try one(d, "a build context directory").word!
            case "dockerfile":
                app.dockerfile = try one(d, "a Dockerfile path").word!
            case "port":
                let v = try one(d, "a port number")
                guard let p = Int(v.word!), p >= 1, p <= 65535 else {
                    throw ConfigError(v.location, "port: expected a port number from 1 to 65535, got \(v.display)")
                }
                app.port = p
            case "replicas":
                let v = try one(d, "a number of containers")
                guard let n = Int(v.word!), n >= 1, n <= 1000 else {
                    throw ConfigError(v.location, "replicas: expected a number from 1 to 1000, got \(v.display)")
                }
                app.replicas = n
            case "health":
                app.health = try health(d)
            case "env":
                if d.args.isEmpty { throw ConfigError(d.afterLast, "env: expected KEY=VALUE") }
                for a in d.args {
                    let w = a.word!
                    guard let eq = w.firstIndex(of: "="), eq != w.startIndex else {
                        throw ConfigError(a.location, "env: expected KEY=VALUE, got \(a.display)")
                    }
                    app.env.append(EnvVar(key: String(w[..<eq]), value: String(w[w.index(after: eq)...])))
                }
            case "memory":
                app.memory = try size(d)
            case "cpus":
                let v = try one(d, "a number of CPUs like 0.5")
                guard let c = Double(v.word!), c > 0, c <= 1024 else {
                    throw ConfigError(v.location, "cpus: expected a positive number like 0.5, got \(v.display)")
                }
                app.cpus = c
            case "network":
                let v = try one(d, "'isolated' or 'host'")
                guard let n = AppConfig.Network(rawValue: v.word!) else {
                    throw ConfigError(v.location, "network: expected 'isolated' or 'host', got \(v.display)")
                }
                app.network = n
            case "upstream":
                if d.args.isEmpty { throw ConfigError(d.afterLast, "upstream: expected one or more addresses like 127.0.0.1:9000") }
                for a in d.args { app.upstreams.append(try address(a, directive: "upstream", defaultPort: 80)) }
            case "balance":
                let v = try one(d, "'roundrobin' or 'leastconn'")
                guard let b = AppConfig.Balance(rawValue: v.word!) else {
                    throw ConfigError(v.location, "balance: expected 'roundrobin' or 'leastconn', got \(v.display)")
                }
                app.balance = b
            default:
                break
            }
        }
        if app.build == nil && app.upstreams.isEmpty {
            throw ConfigError(app.location, "app '\(name)' has neither 'build DIR' (containers) nor 'upstream ADDRESS...' (servers): expected one of them")
        }
        if app.build != nil && !app.upstreams.isEmpty {
            throw ConfigError(seen["upstream"] ?? app.location, "app '\(name)' has both 'build' and 'upstream': expected only one of them")
        }
        return app
    }

    // MARK: - directive values

    private func listen(_ s: ConfigStatement) throws(ConfigError) -> ListenConfig {
        guard let first = s.args.first else {
            throw ConfigError(s.afterLast, "listen: expected an address like :8080 or 127.0.0.1:8080")
        }
        let addr = try address(first, directive: "listen")
        var l = ListenConfig(address: addr, tls: nil, location: s.name.location)
        guard s.args.count > 1 else { return l }
        if s.args.count == 2 && s.args[1].word == "tls" {
            l.tls = ListenConfig.TLS(cert: nil, key: nil)  // certificates from the tls { } block
            return l
        }
        guard s.args[1].word == "tls" else {
            throw ConfigError(s.args[1].location, "listen: unexpected extra value \(s.args[1].display) (expected 'tls cert=FILE key=FILE' or nothing)")
        }
        var cert: String?, key: String?, minVersion: String?
        for a in s.args.dropFirst(2) where a.word != nil {
            let w = a.word!
            if w.hasPrefix("cert=") { cert = String(w.dropFirst(5)) }
            else if w.hasPrefix("key=") { key = String(w.dropFirst(4)) }
            else if w.hasPrefix("tls-min=") {
                let v = String(w.dropFirst(8))
                guard v == "1.2" || v == "1.3" else { throw ConfigError(a.location, "listen: tls-min expects 1.2 or 1.3, got '\(v)'") }
                minVersion = v
            } else {
                throw ConfigError(a.location, "listen: unexpected TLS option \(a.display) (expected cert=FILE, key=FILE or tls-min=1.2|1.3)")
            }
        }
        if cert == nil && key == nil {
            l.tls = ListenConfig.TLS(cert: nil, key: nil, minVersion: minVersion)
            return l
        }
        guard let cert, !cert.isEmpty else { throw ConfigError(s.afterLast, "listen: tls needs cert=FILE with key=FILE") }
        guard let key, !key.isEmpty else { throw ConfigError(s.afterLast, "listen: tls needs key=FILE with cert=FILE") }
        l.tls = ListenConfig.TLS(cert: cert, key: key, minVersion: minVersion)
        return l
    }

    private func health(_ s: ConfigStatement) throws(ConfigError) -> HealthCheck {
        if s.block != nil { throw ConfigError(s.blockOpen!, "health does not take a block") }
        var h = HealthCheck()
        var args = s.args[...]
        guard let method = args.popFirst() else {
            throw ConfigError(s.afterLast, "health: expected a method and path, like 'health GET / interval 2s timeout 1s'")
        }
        guard method.word!.allSatisfy({ $0.isUppercase && $0.isLetter }) else {
            throw ConfigError(method.location, "health: expected a method like GET, got \(method.display)")
        }
        h.method = method.word!
        guard let p = args.popFirst() else { throw ConfigError(s.afterLast, "health: expected a path after the method, like /health") }
        h.path = try path(p, keepTrailingSlash: true)
        while let key = args.popFirst() {
            guard let value = args.popFirst() else {
                throw ConfigError(s.afterLast, "health: expected a value after \(key.display)")
            }
            switch key.word! {
            case "interval", "timeout":
                guard let d = ConfigValue.duration(value.word!), d > 0 else {
                    throw ConfigError(value.location, "health: \(key.word!) expects a duration like 250ms, 5s or 2m, got \(value.display)")
                }
                if key.word == "interval" { h.interval = d } else { h.timeout = d }
            case "fall", "rise":
                guard let n = Int(value.word!), n >= 1, n <= 100 else {
                    throw ConfigError(value.location, "health: \(key.word!) expects a count from 1 to 100, got \(value.display)")
                }
                if key.word == "fall" { h.fall = n } else { h.rise = n }
            default:
                let hint = DirectiveSuggestion.nearest(to: key.word!, in: ["interval", "timeout", "fall", "rise"])
                throw ConfigError(key.location, "health: unknown option \(key.display)" + (hint.map { " (did you mean '\($0)'?)" } ?? " (expected interval, timeout, fall or rise)"))
            }
        }
        return h
    }

    private func path(_ t: ConfigToken, keepTrailingSlash: Bool = false) throws(ConfigError) -> String {
        var p = t.word!
        guard p.hasPrefix("/"), !p.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace || !$0.isASCII }) else {
            throw ConfigError(t.location, "expected a path starting with '/', like /ruby, got \(t.display)")
        }
        if !keepTrailingSlash { while p.count > 1 && p.hasSuffix("/") { p.removeLast() } }
        return p
    }

    private func address(_ t: ConfigToken, directive: String, defaultPort: Int? = nil) throws(ConfigError) -> HostPort {
        guard let hp = HostPort.parse(t.word!, defaultPort: defaultPort) else {
            throw ConfigError(t.location, "\(directive): expected an address like :8080, 127.0.0.1:8080 or [::1]:8080, got \(t.display)")
        }
        return hp
    }

    private func duration(_ s: ConfigStatement) throws(ConfigError) -> Double {
        let v = try one(s, "a duration like 250ms, 5s or 2m")
        guard let d = ConfigValue.duration(v.word!) else {
            throw ConfigError(v.location, "\(s.nameText): expected a duration like 250ms, 5s or 2m, got \(v.display)")
        }
        return d
    }

    private func size(_ s: ConfigStatement) throws(ConfigError) -> Int {
        let v = try one(s, "a size like 512K, 256M or 1G")
        guard let n = ConfigValue.size(v.word!) else {
            throw ConfigError(v.location, "\(s.nameText): expected a size like 512K, 256M or 1G, got \(v.display)")
        }
        return n
    }

    // MARK: - shape checks

    private func one(_ s: ConfigStatement, _ expected: String) throws(ConfigError) -> ConfigToken {
        guard let v = s.args.first else {
            throw ConfigError(s.afterLast, "\(s.nameText): missing value: expected \(expected)")
        }
        if s.args.count > 1 {
            throw ConfigError(s.args[1].location, "\(s.nameText): unexpected extra value \(s.args[1].display) (expected only \(expected))")
        }
        return v
    }

    private func block(_ s: ConfigStatement) throws(ConfigError) -> [ConfigStatement] {
        if let extra = s.args.first, s.nameText != "app" {
            throw ConfigError(extra.location, "\(s.nameText): unexpected value \(extra.display) (expected '{')")
        }
        guard let b = s.block else { throw ConfigError(s.afterLast, "\(s.nameText): expected '{' to open a block") }
        return b
    }

    private func noBlock(_ s: ConfigStatement) throws(ConfigError) {
        if s.block != nil { throw ConfigError(s.blockOpen!, "\(s.nameText) does not take a block") }
    }

    private func checkKnown(_ s: ConfigStatement, _ names: [String], context: String) throws(ConfigError) {
        let n = s.nameText
        guard !names.contains(n) else { return }
        if let hint = DirectiveSuggestion.nearest(to: n, in: names) {
            throw ConfigError(s.name.location, "unknown directive '\(n)' \(context) (did you mean '\(hint)'?)")
        }
        throw ConfigError(s.name.location, "unknown directive '\(n)' \(context) (expected one of: \(names.joined(separator: ", ")))")
    }

    private func checkOnce(_ s: ConfigStatement, _ seen: inout [String: SourceLocation]) throws(ConfigError) {
        let n = s.nameText
        if ConfigParser.repeatable.contains(n) { seen[n] = seen[n] ?? s.name.location; return }
        if let first = seen[n] {
            throw ConfigError(s.name.location, "duplicate directive '\(n)' (first set at \(first))")
        }
        seen[n] = s.name.location
    }
}

import Foundation

/// `app NAME { }`: one row per app directive.
enum AppDirectives {
    typealias Row = ConfigDirective<AppConfig>

    static let table = DirectiveTable<AppConfig>(block: "app", context: "in an app block", rows: [
        Row("path", "/PREFIX", "path prefix on segment boundaries; longest wins (default /)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.path = try ConfigValues.path(try ConfigValues.one(d, "a path like /ruby"))
            a.pathGiven = true
        },
        Row("host", "NAME", "match the Host header (case-insensitive, port ignored)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "a host name like example.com")
            guard let hp = HostPort.parse(v.text, defaultPort: 0), !hp.host.isEmpty else {
                throw ConfigError(v.location, "host: expected a host name like example.com, got \(v.display)")
            }
            a.host = hp.host.lowercased()
        },
        Row("redirect-https", "on|off", "plain-HTTP requests get 308 to https (overrides the top-level one)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.redirectHTTPS = try ConfigValues.onOff(d)
        },
        Row("strip-prefix", "on|off", "remove the path prefix before forwarding; sets X-Forwarded-Prefix (default on)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.stripPrefix = try ConfigValues.onOff(d)
        },
        Row("skew-retry", "on|off", "while an old version drains, retry a GET or HEAD the new version answers 404 on the old one, once (default off)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.skewRetry = try ConfigValues.onOff(d)
        },
        Row("build", "DIR", "build the app's image from DIR (relative to proxy.conf) and run it in containers") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.build = try ConfigValues.one(d, "a build context directory").text
        },
        Row("image", "NAME[:TAG]", "run this image from the store (pulled when missing) in containers, instead of building one") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "an image name like postgres:15")
            guard !v.text.isEmpty, !v.text.hasPrefix("/"), !v.text.contains(where: \.isWhitespace) else {
                throw ConfigError(v.location, "image: expected an image name like postgres:15, got \(v.display)")
            }
            a.image = v.text
        },
        Row("dockerfile", "FILE", "the Dockerfile, relative to the build directory (default Dockerfile)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.dockerfile = try ConfigValues.one(d, "a Dockerfile path").text
        },
        Row("port", "N", "the port the app listens on inside its container (default 8000)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.port = try ConfigValues.number(d, "a port number", in: 1...65535, expected: "a port number from 1 to 65535")
        },
        Row("replicas", "N", "containers to run, 1 to 1000 (default 1)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.replicas = try ConfigValues.number(d, "a number of containers", in: 1...1000, expected: "a number from 1 to 1000")
        },
        Row("health", "METHOD /PATH [interval D] [timeout D] [fall N] [rise N]", "active health checks; also the gate of new replicas") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.health = try HealthSyntax.parse(d)
        },
        Row("env", "KEY=VALUE...", "environment of the app's containers", repeatable: true) { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            if d.args.isEmpty { throw ConfigError(d.afterLast, "env: expected KEY=VALUE") }
            for w in d.args {
                guard let eq = w.text.firstIndex(of: "="), eq != w.text.startIndex else {
                    throw ConfigError(w.location, "env: expected KEY=VALUE, got \(w.display)")
                }
                a.env.append(EnvVar(key: String(w.text[..<eq]), value: String(w.text[w.text.index(after: eq)...])))
            }
        },
        Row("memory", "SIZE", "memory limit of each container (swap capped too)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.memory = try ConfigValues.size(d)
        },
        Row("cpus", "N", "CPU limit of each container, like 0.5") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "a number of CPUs like 0.5")
            guard let c = Double(v.text), c > 0, c <= 1024 else {
                throw ConfigError(v.location, "cpus: expected a positive number like 0.5, got \(v.display)")
            }
            a.cpus = c
        },
        Row("network", "isolated|host", "a network namespace of its own (default), or the host's (the app gets $PORT)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.network = try ConfigValues.choice(d, "'isolated' or 'host'", as: AppConfig.Network.self)
        },
        Row("volume", "NAME:/PATH", "a named volume (state dir volumes/NAME; seeded from the image when new; kept until berth volume rm)", repeatable: true) { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "NAME:/PATH, like pgdata:/var/lib/postgresql/data")
            guard let colon = v.text.firstIndex(of: ":") else {
                throw ConfigError(v.location, "volume: expected NAME:/PATH, like pgdata:/var/lib/postgresql/data, got \(v.display)")
            }
            let name = String(v.text[..<colon]), target = String(v.text[v.text.index(after: colon)...])
            guard Self.isVolumeName(name) else {
                throw ConfigError(v.location, "volume: '\(name)' is not a volume name (a letter or digit, then letters, digits, '_', '.' or '-')")
            }
            try Self.checkTarget(target, of: a, at: v, directive: "volume")
            a.volumes.append(VolumeMount(name: name, target: target))
        },
        Row("mount", "HOST:/PATH [ro|rw]", "a host file or directory (relative to proxy.conf) bind-mounted in; rw by default", repeatable: true) { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            guard let v = d.args.first else { throw ConfigError(d.afterLast, "mount: expected HOST:/PATH [ro|rw]") }
            if d.args.count > 2 { throw ConfigError(d.args[2].location, "mount: unexpected extra value \(d.args[2].display)") }
            var readOnly = false
            if d.args.count == 2 {
                switch d.args[1].text {
                case "ro": readOnly = true
                case "rw": readOnly = false
                default: throw ConfigError(d.args[1].location, "mount: expected 'ro' or 'rw', got \(d.args[1].display)")
                }
            }
            guard let colon = v.text.lastIndex(of: ":"), colon != v.text.startIndex else {
                throw ConfigError(v.location, "mount: expected HOST:/PATH, like ./static:/srv/static, got \(v.display)")
            }
            let target = String(v.text[v.text.index(after: colon)...])
            try Self.checkTarget(target, of: a, at: v, directive: "mount")
            let source = ConfigValues.relativeToConfig(String(v.text[..<colon]), at: v.location)
            guard FileManager.default.fileExists(atPath: source) else {
                throw ConfigError(v.location, "mount: \(source) does not exist")
            }
            a.mounts.append(HostMount(source: source, target: target, readOnly: readOnly))
        },
        Row("secret", "NAME FILE", "FILE (relative to proxy.conf) at /run/secrets/NAME: read-only, mode 0400, owned by the container's user", repeatable: true) { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            guard d.args.count == 2 else {
                throw ConfigError(d.args.count > 2 ? d.args[2].location : d.afterLast, "secret: expected NAME FILE, like 'secret db-password secrets/db-password'")
            }
            let name = d.args[0].text
            guard Self.isVolumeName(name) else {
                throw ConfigError(d.args[0].location, "secret: '\(name)' is not a secret name (a letter or digit, then letters, digits, '_', '.' or '-')")
            }
            guard !a.secrets.contains(where: { $0.name == name }) else { throw ConfigError(d.args[0].location, "secret: '\(name)' is given twice") }
            let path = ConfigValues.relativeToConfig(d.args[1].text, at: d.args[1].location)
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigError(d.args[1].location, "secret: cannot read \(path)")
            }
            a.secrets.append(SecretFile(name: name, source: path))
        },
        Row("command", "ARGS...", "replaces the image's CMD (its ENTRYPOINT stays)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            if d.args.isEmpty { throw ConfigError(d.afterLast, "command: expected the command and its arguments") }
            a.command = d.args.map(\.text)
        },
        Row("env-file", "FILE", "KEY=VALUE lines (# comments) for the app's environment; relative to proxy.conf") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "a file of KEY=VALUE lines")
            let path = ConfigValues.relativeToConfig(v.text, at: v.location)
            a.envFile = path
            a.envFileVars = try EnvFile.read(path, at: v.location)
        },
        Row("seccomp", "default|unconfined", "Docker's default seccomp profile on the app's containers (default), or none") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.seccomp = try ConfigValues.choice(d, "'default' or 'unconfined'", as: AppConfig.Seccomp.self)
        },
        Row("upstream", "ADDR...", "plain upstream servers instead of containers", repeatable: true) { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            if d.args.isEmpty { throw ConfigError(d.afterLast, "upstream: expected one or more addresses like 127.0.0.1:9000") }
            for w in d.args {
                // `h2c://ADDR` (HTTP/2, prior knowledge) or `http://ADDR`; a bare
                // address speaks what the app does (`proto`, default HTTP/1.1).
                var word = w
                var scheme: AppConfig.UpstreamProtocol?
                if word.text.hasPrefix("h2c://") {
                    scheme = .h2c
                    word.text.removeFirst(6)
                } else if word.text.hasPrefix("http://") {
                    scheme = .http1
                    word.text.removeFirst(7)
                } else if word.text.contains("://") {
                    throw ConfigError(w.location, "upstream: \(w.display): the scheme is http:// (HTTP/1.1) or h2c:// (HTTP/2 with prior knowledge)")
                }
                if let scheme {
                    if !a.upstreams.isEmpty && scheme != a.proto {
                        throw ConfigError(w.location, "upstream: \(w.display): every upstream of an app speaks the same protocol (the others: \(a.proto.rawValue))")
                    }
                    a.proto = scheme
                }
                a.upstreams.append(try ConfigValues.address(word, directive: "upstream", defaultPort: 80))
            }
        },
        Row("proto", "http1|h2c", "what berth speaks to the app's servers: HTTP/1.1 (default) or HTTP/2 with prior knowledge, for gRPC") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.proto = try ConfigValues.choice(d, "'http1' or 'h2c'", as: AppConfig.UpstreamProtocol.self)
        },
        Row("link", "APP [PORT]", "APP at 127.0.0.1:PORT (default: APP's port) inside this app's containers; sets APP_HOST and APP_PORT", repeatable: true) { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            guard (1...2).contains(d.args.count) else {
                throw ConfigError(d.args.count > 2 ? d.args[2].location : d.afterLast, "link: expected an app name and an optional local port, like 'link db' or 'link db 15432'")
            }
            var port: Int?
            if d.args.count == 2 {
                guard let p = Int(d.args[1].text), (1...65535).contains(p) else {
                    throw ConfigError(d.args[1].location, "link: expected a port number from 1 to 65535, got \(d.args[1].display)")
                }
                port = p
            }
            let name = d.args[0].text
            if a.links.contains(where: { $0.app == name }) {
                throw ConfigError(d.args[0].location, "link: app '\(name)' is linked twice")
            }
            a.links.append(AppLink(app: name, port: port, location: d.args[0].location))
        },
        Row("deploy", "blue-green|recreate", "how a redeploy replaces containers (default: recreate for an unrouted app with a volume, else blue-green)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.deploy = try ConfigValues.choice(d, "'blue-green' or 'recreate'", as: DeployStrategy.self)
        },
        Row("balance", "roundrobin|leastconn", "how requests are spread over the app's servers (default roundrobin)") { (a: inout AppConfig, d: ConfigStatement) throws(ConfigError) in
            a.balance = try ConfigValues.choice(d, "'roundrobin' or 'leastconn'", as: AppConfig.Balance.self)
        },
    ])

    /// A letter or digit, then letters, digits, `_`, `.` or `-` (Docker's volume names).
    static func isVolumeName(_ name: String) -> Bool {
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) }
        guard let f = name.utf8.first, alnum(f) else { return false }
        return name.utf8.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// An absolute container path no other volume or mount of the app uses.
    static func checkTarget(_ target: String, of a: AppConfig, at v: ConfigWord, directive: String) throws(ConfigError) {
        guard target.hasPrefix("/"), target != "/", !target.split(separator: "/").contains("..") else {
            throw ConfigError(v.location, "\(directive): the container path must be absolute (not / and without ..), got '\(target)'")
        }
        if a.volumes.contains(where: { $0.target == target }) || a.mounts.contains(where: { $0.target == target }) {
            throw ConfigError(v.location, "\(directive): \(target) is already mounted in app '\(a.name)'")
        }
    }

    /// Letters, digits, `-`, `_` and `.` (ASCII names are checked byte by byte).
    static func isAppName(_ name: String) -> Bool {
        let ascii = name.utf8.allSatisfy { $0 < 0x80 }
        if ascii {
            return name.utf8.allSatisfy { b in
                (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
            }
        }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// `app NAME { ... }`, checked as a whole.
    static func parse(_ s: ConfigStatement) throws(ConfigError) -> AppConfig {
        guard let nameWord = s.args.first else {
            throw ConfigError(s.afterLast, "app: expected a name, like 'app ruby {'")
        }
        if s.args.count > 1 {
            throw ConfigError(s.args[1].location, "app: unexpected extra value \(s.args[1].display) (expected 'app NAME {')")
        }
        let name = nameWord.text
        guard !name.isEmpty, Self.isAppName(name) else {
            throw ConfigError(nameWord.location, "app: expected a name of letters, digits, '-', '_' or '.', got \(nameWord.display)")
        }
        var app = AppConfig(name: name, location: nameWord.location)
        let body = try ConfigValues.block(s, allowsValues: true)
        try table.apply(body, to: &app)
        let sources = [app.build != nil ? "build" : nil, app.image != nil ? "image" : nil, app.upstreams.isEmpty ? nil : "upstream"].compactMap { $0 }
        if sources.isEmpty {
            throw ConfigError(app.location, "app '\(name)' has neither 'build DIR' nor 'image NAME' (containers) nor 'upstream ADDRESS...' (servers): expected one of them")
        }
        if sources.count > 1 {
            let at = body.first { $0.nameText == sources[1] }?.name.location ?? app.location
            throw ConfigError(at, "app '\(name)' has both '\(sources[0])' and '\(sources[1])': expected only one of them")
        }
        if app.isWorker, app.health?.command == nil, let h = body.first(where: { $0.nameText == "health" }) {
            throw ConfigError(h.name.location, "app '\(name)' is a worker (no path, host or port): it has no HTTP for 'health' to check; give it a 'port', or use 'health exec CMD'")
        }
        if app.proto == .h2c, app.health != nil, app.health?.command == nil, let h = body.first(where: { $0.nameText == "health" }) {
            throw ConfigError(h.name.location, "app '\(name)' speaks h2c: 'health PATH' probes with HTTP/1.1, which an HTTP/2-only server refuses; use 'health exec CMD' (grpc_health_probe and the like), or no health line (a connect check)")
        }
        return app
    }
}

/// The directives of proxy.conf's top level.
enum TopLevelDirectives {
    typealias Row = ConfigDirective<ConfigDraft>

    static let table = DirectiveTable<ConfigDraft>(block: "main", context: "at the top level", rows: [
        Row("listen", "ADDR [tls [cert=F key=F] [tls-min=1.2|1.3]]", "an address to serve (HTTPS with tls)", repeatable: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            c.config.listens.append(try ListenSyntax.parse(d))
        },
        Row("workers", "N|auto", "event-loop threads, each with its own SO_REUSEPORT listener (default auto = cores)") {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "'auto' or a number of threads")
            if v.text == "auto" {
                c.config.workers = .auto
            } else if let n = Int(v.text), n >= 1, n <= 1024 {
                c.config.workers = .count(n)
            } else {
                throw ConfigError(v.location, "workers: expected 'auto' or a number of threads from 1 to 1024, got \(v.display)")
            }
        },
        Row("runtime", "runc|crun", "OCI runtime of app containers; crun falls back to runc where it can't run (default runc)") {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            c.config.runtime = try ConfigValues.choice(d, "'runc' or 'crun'", as: ContainerRuntime.self)
        },
        Row("registry", "HOST[:PORT] insecure", "pull from that registry over plain HTTP", repeatable: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            guard d.args.count == 2, d.args[1].text == "insecure" else {
                throw ConfigError(d.name.location, "registry: expected 'registry HOST[:PORT] insecure' (plain HTTP to that registry)")
            }
            c.config.insecureRegistries.insert(d.args[0].text)
        },
        Row("state-dir", "DIR", "images, containers and logs (default /var/lib/berth)") {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            c.config.stateDir = try ConfigValues.one(d, "a directory").text
        },
        Row("access-log", "stdout|off|PATH", "one JSON line per request (default off)") {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "'stdout', 'off' or a file path").text
            c.config.accessLog = v == "stdout" ? .stdout : v == "off" ? .off : .file(v)
        },
        Row("admin", "ADDR", "/metrics and /healthz on this address (an explicit host: 127.0.0.1:9901 or 0.0.0.0:9901)") {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            let v = try ConfigValues.one(d, "an address like 127.0.0.1:9901")
            let a = try ConfigValues.address(v, directive: "admin")
            // Metrics are not for the world: every-address needs to be written out.
            if a.host.isEmpty {
                throw ConfigError(v.location, "admin: \(v.display) would listen on every address; expected 127.0.0.1:\(a.port) (or write 0.0.0.0:\(a.port) to mean it)")
            }
            c.config.admin = a
        },
        Row("timeouts", "{ ... }", "connect, header, idle, upstream, drain and start durations", opensBlock: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            try TimeoutDirectives.table.apply(try ConfigValues.block(d), to: &c.config.timeouts)
        },
        Row("limits", "{ ... }", "header-size, body-size and connections", opensBlock: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            try LimitDirectives.table.apply(try ConfigValues.block(d), to: &c.config.limits)
        },
        Row("tls", "{ ... }", "certificates by server name for 'listen ... tls' lines without their own", opensBlock: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            let b = try TLSDirectives.parse(d)
            (c.config.tlsSites, c.config.tlsDefault, c.config.tlsAutoNames) = (b.sites, b.defaultHost, b.autoNames)
        },
        Row("acme", "{ ... }", "the ACME CA 'listen ... tls auto' gets certificates from (default Let's Encrypt)", opensBlock: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            c.config.acme = try ACMEDirectives.parse(d)
        },
        Row("redirect-https", "on|off", "plain-HTTP requests get 308 to https (default off)") {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            c.config.redirectHTTPS = try ConfigValues.onOff(d)
        },
        Row("app", "NAME { ... }", "one app: its route and its containers or servers", repeatable: true, opensBlock: true) {
            (c: inout ConfigDraft, d: ConfigStatement) throws(ConfigError) in
            try c.add(try AppDirectives.parse(d))
        },
    ])
}

/// The config being built, with the indexes the checks across apps use (so
/// a config with thousands of apps is read in linear time).
struct ConfigDraft {
    var config: Config
    /// App names, and hosts and paths of routed apps, by their hash (a reload
    /// of thousands of apps spent most of its checks hashing Strings).
    var appsByName = HashedPositions()
    var appsByRoute = HashedPositions()

    mutating func reserve(_ apps: Int) {
        config.apps.reserveCapacity(apps)
        appsByName.reserve(apps)
        appsByRoute.reserve(apps)
    }

    /// Adds an app, refusing a second one with its name or its route.
    mutating func add(_ app: AppConfig) throws(ConfigError) {
        let apps = config.apps
        let nameHash = HashedPositions.hash(app.name)
        if let first = appsByName.first(nameHash, where: { apps[$0].name == app.name }) {
            throw ConfigError(app.location, "duplicate app '\(app.name)' (first defined at \(apps[first].location))")
        }
        let routeHash = HashedPositions.hash(app.path, then: app.host)
        if app.isRouted, let i = appsByRoute.first(routeHash, where: { apps[$0].path == app.path && apps[$0].host == app.host }) {
            let other = apps[i]
            let hostText = app.host.map { "host \($0) and " } ?? ""
            throw ConfigError(app.location, "app '\(app.name)' routes the same \(hostText)path \(app.path) as app '\(other.name)' (defined at \(other.location))")
        }
        appsByName.insert(nameHash, config.apps.count)
        if app.isRouted { appsByRoute.insert(routeHash, config.apps.count) }
        config.apps.append(app)
    }
}

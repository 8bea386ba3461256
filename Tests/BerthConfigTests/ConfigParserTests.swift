import Testing
import BerthConfig

/// The error text for `text`, or nil if it parses; the reload parser
/// (statement by statement, with a cache) must give the same answer.
func configError(_ text: String) -> ConfigError? {
    var cache = ConfigParseCache()
    let incremental: ConfigError?
    do {
        _ = try Config.parse(text, file: "proxy.conf", reusing: &cache)
        incremental = nil
    } catch {
        incremental = error
    }
    do {
        _ = try Config.parse(text, file: "proxy.conf")
        #expect(incremental == nil, "the reload parser refused what the parser accepts: \(String(describing: incremental))")
        return nil
    } catch {
        #expect(incremental == error)
        return error
    }
}

@Suite struct ConfigParserTests {
    static let full = """
    listen :8080                         # repeatable
    listen 127.0.0.1:8443 tls cert=a.pem key=a.key tls-min=1.3
    workers auto
    state-dir /var/lib/berth
    access-log stdout
    admin 127.0.0.1:9901

    timeouts {
        connect 5s
        header 10s
        idle 60s
        upstream 1m
        drain 30s
        start 250ms
    }
    limits {
        header-size 32K
        body-size 64M
        connections 10000
    }

    app ruby {
        path /ruby/
        strip-prefix on
        build apps/ruby
        dockerfile Dockerfile.prod
        port 8000
        replicas 2
        health GET /  interval 2s  timeout 1s fall 4 rise 3
        env RACK_ENV=production
        env "GREETING=hello world"
        memory 256M
        cpus 0.5
        network isolated
        seccomp unconfined
    }

    app legacy {
        host Legacy.Example.com
        path /legacy
        upstream 127.0.0.1:9000 127.0.0.1:9001 backend.local
        balance leastconn
        strip-prefix off
    }
    """

    @Test func parsesTheWholeGrammar() throws {
        let c = try Config.parse(Self.full, file: "proxy.conf")
        #expect(c.listens.count == 2)
        #expect(c.listens[0].address == HostPort(host: "", port: 8080))
        #expect(c.listens[1].tls == ListenConfig.TLS(cert: "a.pem", key: "a.key", minVersion: "1.3"))
        #expect(c.workers == .auto)
        #expect(c.stateDir == "/var/lib/berth")
        #expect(c.accessLog == .stdout)
        #expect(c.admin == HostPort(host: "127.0.0.1", port: 9901))
        #expect(c.timeouts.upstream == 60)
        #expect(c.timeouts.start == 0.25)
        #expect(c.limits.headerSize == 32 * 1024)
        #expect(c.limits.bodySize == 64 * 1024 * 1024)
        #expect(c.limits.connections == 10000)
        let ruby = c.apps[0]
        #expect(ruby.path == "/ruby")
        #expect(ruby.build == "apps/ruby")
        #expect(ruby.dockerfile == "Dockerfile.prod")
        #expect(ruby.port == 8000)
        #expect(ruby.replicas == 2)
        #expect(ruby.health == HealthCheck(method: "GET", path: "/", interval: 2, timeout: 1, fall: 4, rise: 3))
        #expect(ruby.env == [EnvVar(key: "RACK_ENV", value: "production"), EnvVar(key: "GREETING", value: "hello world")])
        #expect(ruby.memory == 256 << 20)
        #expect(ruby.cpus == 0.5)
        #expect(ruby.network == .isolated)
        #expect(ruby.seccomp == .unconfined)
        #expect(ruby.location == SourceLocation(file: "proxy.conf", line: 22, column: 5))
        let legacy = c.apps[1]
        #expect(legacy.host == "legacy.example.com")
        #expect(legacy.upstreams == [HostPort(host: "127.0.0.1", port: 9000), HostPort(host: "127.0.0.1", port: 9001),
                                     HostPort(host: "backend.local", port: 80)])
        #expect(legacy.balance == .leastConn)
        #expect(!legacy.stripPrefix)
    }

    @Test func blockOnOneLine() throws {
        let c = try Config.parse("listen :1\napp a { path /a\n upstream 127.0.0.1:2 }\n", file: "f")
        #expect(c.apps[0].path == "/a")
    }

    @Test func defaults() throws {
        let c = try Config.parse("listen :8080\n", file: "f")
        #expect(c.accessLog == .off)
        #expect(c.timeouts.connect == 5 && c.timeouts.header == 10 && c.timeouts.idle == 60)
        #expect(c.limits.headerSize == 32768)
    }

    @Test func unknownDirectiveSuggestsNearest() {
        let e = configError("lisen :8080\n")
        #expect(e?.description == "proxy.conf:1:1: error: unknown directive 'lisen' at the top level (did you mean 'listen'?)")
        let e2 = configError("listen :1\napp a {\n  upstrem 127.0.0.1:2\n}\n")
        #expect(e2?.location.line == 3)
        #expect(e2?.location.column == 3)
        #expect(e2?.message.contains("did you mean 'upstream'?") == true)
        let e3 = configError("listen :1\ntimeouts {\n  conect 1s\n}\n")
        #expect(e3?.message.contains("did you mean 'connect'?") == true)
    }

    @Test func columnsCountCharactersOnNonASCIILines() {
        // "é" is two bytes, one character: the bad port is at column 16, not 17.
        let e = configError("listen :1\napp \"é\" { upstream h:x\n}\n")
        #expect(e?.location.line == 2)
        let ascii = configError("listen :1\napp a { upstream h:x\n}\n")
        #expect(ascii?.location == SourceLocation(file: "proxy.conf", line: 2, column: 18))
        let wide = configError("listen :1\n# é\napp é { upstream h:x\n}\n")
        #expect(wide?.location == SourceLocation(file: "proxy.conf", line: 3, column: 18))
    }

    @Test func duplicateDirectiveNamesTheFirst() {
        let e = configError("listen :1\napp a {\n  path /a\n  upstream h:1\n  path /b\n}\n")
        #expect(e?.location == SourceLocation(file: "proxy.conf", line: 5, column: 3))
        #expect(e?.message == "duplicate directive 'path' (first set at proxy.conf:3:3)")
    }

    @Test func missingAndExtraValues() {
        let e = configError("listen\n")
        #expect(e?.location == SourceLocation(file: "proxy.conf", line: 1, column: 8))
        #expect(e?.message.contains("expected an address") == true)
        let e2 = configError("listen :1\nworkers 2 3\n")
        #expect(e2?.location == SourceLocation(file: "proxy.conf", line: 2, column: 11))
        #expect(e2?.message.contains("unexpected extra value '3'") == true)
        let e3 = configError("listen :1\nworkers\n")
        #expect(e3?.message.contains("missing value") == true)
    }

    @Test func badDurationSizeAddress() {
        let d = configError("listen :1\ntimeouts {\n  connect 5\n}\n")
        #expect(d?.location == SourceLocation(file: "proxy.conf", line: 3, column: 11))
        #expect(d?.message.contains("expected a duration like 250ms, 5s or 2m") == true)
        let s = configError("listen :1\nlimits {\n  body-size 12Q\n}\n")
        #expect(s?.message.contains("expected a size like 512K, 256M or 1G") == true)
        let a = configError("listen :99999\n")
        #expect(a?.message.contains("expected an address") == true)
        let u = configError("listen :1\napp a {\n upstream 127.0.0.1:notaport\n}\n")
        #expect(u?.location.line == 3 && u?.location.column == 11)
    }

    @Test func duplicateApp() {
        let e = configError("listen :1\napp a {\n upstream 127.0.0.1:2\n path /a\n}\napp a {\n upstream 127.0.0.1:3\n path /b\n}\n")
        #expect(e?.location.line == 6)
        #expect(e?.message == "duplicate app 'a' (first defined at proxy.conf:2:5)")
    }

    @Test func twoAppsOnSameHostAndPath() {
        let e = configError("listen :1\napp a {\n upstream 127.0.0.1:2\n path /x/\n}\napp b {\n upstream 127.0.0.1:3\n path /x\n}\n")
        #expect(e?.location.line == 6)
        #expect(e?.message.contains("routes the same path /x as app 'a'") == true)
        // Same path on different hosts is fine.
        #expect(configError("listen :1\napp a {\n upstream 127.0.0.1:2\n path /x\n host a.com\n}\napp b {\n upstream 127.0.0.1:3\n path /x\n}\n") == nil)
    }

    @Test func appNeedsBuildOrUpstream() {
        let e = configError("listen :1\napp a {\n path /a\n}\n")
        #expect(e?.location == SourceLocation(file: "proxy.conf", line: 2, column: 5))
        #expect(e?.message.contains("neither 'build DIR'") == true)
        let both = configError("listen :1\napp a {\n build x\n upstream 127.0.0.1:1\n}\n")
        #expect(both?.message.contains("both 'build' and 'upstream'") == true)
    }

    @Test func unterminatedBlockAndString() {
        let b = configError("listen :1\napp a {\n upstream 127.0.0.1:2\n")
        #expect(b?.location == SourceLocation(file: "proxy.conf", line: 2, column: 7))
        #expect(b?.message.contains("unterminated block") == true)
        let s = configError("listen :1\naccess-log \"/tmp/x\n")
        #expect(s?.location == SourceLocation(file: "proxy.conf", line: 2, column: 12))
        #expect(s?.message.contains("unterminated string") == true)
        let c = configError("listen :1\n}\n")
        #expect(c?.message.contains("unexpected '}'") == true)
    }

    @Test func duplicateScalarDirective() {
        let e = configError("listen :1\nworkers 1\nworkers 2\n")
        #expect(e?.location.line == 3)
        #expect(e?.message.contains("duplicate directive 'workers'") == true)
    }

    @Test func adminRefusesAnImplicitWildcard() throws {
        #expect(configError("listen :1\nadmin :9901\n")?.message.contains("would listen on every address") == true)
        #expect(try Config.parse("listen :1\nadmin 0.0.0.0:9901\n", file: "f").admin == HostPort(host: "0.0.0.0", port: 9901))
    }

    @Test func needsAListen() {
        #expect(configError("workers 1\n")?.message.contains("no 'listen'") == true)
    }

    @Test func badPathAndValues() {
        #expect(configError("listen :1\napp a {\n path ruby\n upstream 127.0.0.1:1\n}\n")?.message.contains("starting with '/'") == true)
        #expect(configError("listen :1\napp a {\n build x\n network bridge\n}\n")?.message.contains("'isolated' or 'host'") == true)
        #expect(configError("listen :1\napp a {\n build x\n health GET / every 2s\n}\n")?.message.contains("unknown option 'every'") == true)
        #expect(configError("listen :1\napp a {\n build x\n env NOEQUALS\n}\n")?.message.contains("KEY=VALUE") == true)
        #expect(configError("listen :1\nworkers many\n")?.message.contains("'auto' or a number") == true)
    }

    @Test func columnsCountCharactersNotBytes() {
        let e = configError("# é\nlisten :1\napp é {\n upstream 127.0.0.1:1\n}\n")
        #expect(e == nil)  // letters of any script are valid in names
        let e2 = configError("listen :1 # café\nworkers \"é\"\n")
        #expect(e2?.location.column == 9)
    }
}

import Testing
import Foundation
@testable import BerthConfig

/// `volume`, `mount`, `command` and `env-file` in an app block.
@Suite struct AppDataDirectivesTests {
    func dir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("berth-conf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d + "/static", withIntermediateDirectories: true)
        return d
    }

    @Test func parsesVolumesMountsCommandAndEnvFile() throws {
        let d = try dir()
        try "# the web app's settings\nDB_PASSWORD=s3cret=with=equals\n\n  MODE=prod\n".write(toFile: d + "/web.env", atomically: true, encoding: .utf8)
        let text = """
        listen :1
        app web {
            build apps/web
            volume uploads:/srv/uploads
            volume cache:/var/cache/app
            mount ./static:/srv/static ro
            mount /tmp:/host-tmp
            command python3 worker.py --jobs 2
            env-file web.env
        }
        """
        let c = try Config.parse(text, file: d + "/proxy.conf")
        let a = c.apps[0]
        #expect(a.volumes == [VolumeMount(name: "uploads", target: "/srv/uploads"), VolumeMount(name: "cache", target: "/var/cache/app")])
        #expect(a.mounts == [HostMount(source: d + "/static", target: "/srv/static", readOnly: true),
                             HostMount(source: "/tmp", target: "/host-tmp", readOnly: false)])
        #expect(a.command == ["python3", "worker.py", "--jobs", "2"])
        #expect(a.envFileVars == [EnvVar(key: "DB_PASSWORD", value: "s3cret=with=equals"), EnvVar(key: "MODE", value: "prod")])
        var changed = c
        changed.apps[0].volumes.removeLast()
        #expect(ConfigDiff(from: c, to: changed).appsNeedingNewContainers == ["web"])
    }

    @Test func imageAppsRunContainersWithoutABuild() throws {
        let c = try Config.parse("listen :1\napp db {\n  path /db\n  image postgres:15\n  port 5432\n}\n", file: "proxy.conf")
        #expect(c.apps[0].image == "postgres:15" && c.apps[0].runsContainers && c.apps[0].build == nil)
        let both = configError("listen :1\napp db {\n  build x\n  image postgres:15\n}\n")
        #expect(both?.location == SourceLocation(file: "proxy.conf", line: 4, column: 3))
        #expect(both?.message == "app 'db' has both 'build' and 'image': expected only one of them")
        let none = configError("listen :1\napp db {\n  path /db\n}\n")
        #expect(none?.message.contains("neither 'build DIR' nor 'image NAME'") == true)
        #expect(configError("listen :1\napp db {\n  image \"a b\"\n}\n")?.message.contains("expected an image name") == true)
    }

    @Test func secretsAreFilesThatMustBeReadable() throws {
        let d = try dir()
        try "hunter2".write(toFile: d + "/db-password", atomically: true, encoding: .utf8)
        let c = try Config.parse("listen :1\napp db {\n  image postgres:15\n  port 5432\n  secret db-password db-password\n}\n", file: d + "/proxy.conf")
        #expect(c.apps[0].secrets == [SecretFile(name: "db-password", source: d + "/db-password")])
        do {
            _ = try Config.parse("listen :1\napp db {\n  image p\n  secret x missing\n}\n", file: d + "/proxy.conf")
            Issue.record("a missing secret file parsed")
        } catch {
            #expect(error.location.line == 4 && error.location.column == 12 && error.message.contains("cannot read"))
        }
        #expect(configError("listen :1\napp db {\n  image p\n  secret onlyname\n}\n")?.message.contains("expected NAME FILE") == true)
    }

    @Test func healthExecTakesACommandThenOptions() throws {
        let c = try Config.parse("listen :1\napp db {\n  image p\n  port 5432\n  health exec pg_isready -U app interval 1s fall 5\n}\napp jobs {\n  image p\n  health exec test -f /tmp/alive\n}\n", file: "proxy.conf")
        #expect(c.apps[0].health?.command == ["pg_isready", "-U", "app"] && c.apps[0].health?.interval == 1 && c.apps[0].health?.fall == 5)
        #expect(c.apps[1].isWorker && c.apps[1].health?.command == ["test", "-f", "/tmp/alive"], "a worker may have an exec check")
        #expect(configError("listen :1\napp db {\n  image p\n  health exec interval 1s\n}\n")?.message.contains("expected a command") == true)
    }

    @Test func workersHaveNoRouteAndNoHTTPCheck() throws {
        let c = try Config.parse("listen :1\napp a {\n  build x\n}\napp b {\n  image y\n}\napp web {\n  build x\n  port 8000\n}\n", file: "proxy.conf")
        #expect(c.apps.map(\.isWorker) == [true, true, false], "two workers never clash on a route")
        #expect(c.apps[2].isService && !c.apps[2].isRouted, "a port without a path or host makes a service, reached through links")
        let e = configError("listen :1\napp a {\n  build x\n  health GET /\n}\n")
        #expect(e?.location == SourceLocation(file: "proxy.conf", line: 4, column: 3) && e?.message.contains("is a worker") == true)
    }

    @Test func linksNameAServiceAndSetItsVariables() throws {
        let c = try Config.parse("""
        listen :1
        app db {
          image postgres:15
          port 5432
          volume pgdata:/var/lib/postgresql/data
        }
        app web {
          path /web
          build apps/web
          port 8000
          link db
        }
        app jobs {
          build apps/web
          link db 15432
          deploy blue-green
        }
        """, file: "proxy.conf")
        #expect(c.apps[0].isService && !c.apps[0].isRouted && !c.apps[0].isWorker)
        #expect(c.apps[0].deployStrategy == .recreate, "an unrouted app with a volume is recreated")
        #expect(c.apps[1].isRouted && c.apps[1].deployStrategy == .blueGreen)
        #expect(c.apps[1].links.map(\.localPort) == [5432] && c.apps[1].links[0].environmentPrefix == "DB")
        #expect(c.apps[2].isWorker && c.apps[2].links.map(\.localPort) == [15432] && c.apps[2].deployStrategy == .blueGreen)
        // A service is not routed, so two never clash on a path.
        #expect(configError("listen :1\napp a {\n  image p\n  port 1\n}\napp b {\n  image p\n  port 2\n}\n") == nil)
    }

    @Test func linkErrorsNameTheLink() throws {
        func error(_ apps: String) -> ConfigError? { configError("listen :1\n" + apps) }
        let db = "app db {\n  image p\n  port 5432\n}\n"
        let unknown = error(db + "app web {\n  image p\n  link dbb\n}\n")
        #expect(unknown?.location == SourceLocation(file: "proxy.conf", line: 8, column: 8))
        #expect(unknown?.message == "link: no app named 'dbb' (did you mean 'db'?)")
        #expect(error(db + "app web {\n  image p\n  port 5432\n  link db\n}\n")?.message.contains("local port 5432 is app 'web''s own port") == true)
        #expect(error(db + "app web {\n  image p\n  port 8000\n  link db 8000\n}\n")?.message.contains("own port") == true)
        #expect(error(db + "app w {\n  image p\n}\napp web {\n  image p\n  link w\n}\n")?.message.contains("is a worker (no port)") == true)
        #expect(error(db + "app u {\n  path /u\n  upstream 127.0.0.1:1\n}\napp web {\n  image p\n  link u\n}\n")?.message.contains("upstream servers") == true)
        #expect(error(db + "app web {\n  image p\n  link web\n}\n")?.message.contains("cannot link to itself") == true)
        #expect(error(db + "app web {\n  image p\n  link db\n  link db 1\n}\n")?.message.contains("linked twice") == true)
        #expect(error(db + "app web {\n  image p\n  network host\n  link db\n}\n")?.message.contains("network host") == true)
        #expect(error(db + "app web {\n  image p\n  link db 99999\n}\n")?.message.contains("port number") == true)
        let cycle = error("app a {\n  image p\n  port 1\n  link b\n}\napp b {\n  image p\n  port 2\n  link c\n}\napp c {\n  image p\n  port 3\n  link a\n}\n")
        #expect(cycle?.message == "link: a cycle of links (a -> b -> c -> a) could never start: linked apps start first")
        #expect(cycle?.location.line == 15)
        #expect(error(db + "app web {\n  image p\n  deploy rolling\n}\n")?.message.contains("'blue-green' or 'recreate'") == true)
    }

    @Test func errorsNameFileLineAndColumn() throws {
        let d = try dir()
        try "OK=1\nnot a pair\n".write(toFile: d + "/bad.env", atomically: true, encoding: .utf8)
        try "TOKEN=hunter2\n=x\n".write(toFile: d + "/bad2.env", atomically: true, encoding: .utf8)
        func error(_ body: String) -> ConfigError? {
            do {
                _ = try Config.parse("listen :1\napp web {\n  build x\n  \(body)\n}\n", file: d + "/proxy.conf")
                return nil
            } catch {
                return error
            }
        }
        let cases: [(String, Int, Int, String)] = [
            ("volume uploads", 4, 10, "expected NAME:/PATH"),
            ("volume -bad:/x", 4, 10, "is not a volume name"),
            ("volume data:relative", 4, 10, "must be absolute"),
            ("mount ./missing:/srv", 4, 9, "does not exist"),
            ("mount ./static:/srv maybe", 4, 23, "expected 'ro' or 'rw'"),
            ("command", 4, 11, "expected the command"),
            ("env-file nope.env", 4, 12, "cannot read"),
        ]
        for (body, line, col, says) in cases {
            let e = error(body)
            #expect(e?.location.line == line && e?.location.column == col && e?.message.contains(says) == true, "\(body): \(String(describing: e))")
        }
        let dup = error("volume a:/data\n  mount ./static:/data")
        #expect(dup?.message.contains("/data is already mounted") == true)
        let env = error("env-file bad.env")
        #expect(env?.location == SourceLocation(file: d + "/bad.env", line: 2, column: 1))
        let env2 = error("env-file bad2.env")
        #expect(env2?.location.line == 2 && env2?.description.contains("hunter2") == false)
    }
}

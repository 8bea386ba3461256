import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth serve` with a `build` app: the image is built, replicas start in
/// their own network namespaces, the proxy reaches them there, and SIGTERM
/// stops them leaving no mount behind.
@Suite(.serialized) struct ServeContainerTests {
    func webApp(_ state: String) throws -> String {
        let ctx = URL(fileURLWithPath: state).deletingLastPathComponent().path + "/web"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "hello from a container\n".write(toFile: ctx + "/index.html", atomically: true, encoding: .utf8)
        try "FROM busybox\nCOPY index.html /www/index.html\nCMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8000\", \"-h\", \"/www\"]\n"
            .write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
        return ctx
    }

    /// The web app built and tagged `tag` in `state`'s store, for `image` apps.
    func webImage(_ state: String, tag: String) throws {
        let (built, _, err) = try runBerth(["build", try webApp(state), "-t", tag, "--state-dir", state])
        #expect(built == 0, "\(err)")
    }

    /// A second SIGTERM during the drain exits at once, still leaving no mount.
    @Test func secondSigtermExitsAtOnceAndCleansUp() throws {
        let state = try busyboxState()
        let ctx = try webApp(state)
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 1\napp web {\n path /web\n build \(ctx)\n port 8000\n}\n", stateDir: state)
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "hello from a container\n")
        let start = Date()
        kill(serve.process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(serve.terminate() == 0)  // the second SIGTERM
        #expect(Date().timeIntervalSince(start) < 5)  // not the 10 s grace httpd (PID 1, TERM ignored) would take
        #expect(try shell("mount | grep -c '\(state)/containers' || true").1.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func buildAppIsBuiltStartedRoutedAndStopped() throws {
        let state = try busyboxState()
        let ctx = try webApp(state)
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:0
        workers 2
        timeouts {
            drain 2s
        }
        app web {
            path /web
            build \(ctx)
            port 8000
            replicas 2
        }
        """, stateDir: state)
        #expect(serve.startupLines.contains { $0.contains("[build] web") && $0.contains("writing image") })
        #expect(serve.startupLines.filter { $0.contains("[run]   web  started") }.count == 2)
        for _ in 0..<4 {
            #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "hello from a container\n")
        }
        // The replicas' port is not on the host's loopback.
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/ || true").1 != "200")
        #expect(serve.terminate() == 0)
        #expect(try shell("mount | grep -c '\(state)/containers' || true").1.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let left = try FileManager.default.contentsOfDirectory(atPath: state + "/containers").filter { !$0.hasSuffix(".log") }
        #expect(left.isEmpty)
    }

    /// An `image` app with a named volume: seeded from the image, written from
    /// the host, and the same after a blue-green redeploy and a restart of serve.
    @Test func imageAppWithAVolumeKeepsItsDataThroughARedeploy() throws {
        let state = try busyboxState()
        try webImage(state, tag: "webdata:1")
        let config = """
        listen 127.0.0.1:0
        workers 1
        timeouts {
            drain 1s
        }
        app web {
            path /web
            image webdata:1
            port 8000
            volume site:/www
            command /bin/busybox httpd -f -p 8000 -h /www
        }
        """
        var serve = try ServeProcess(config: config, stateDir: state)
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "hello from a container\n", "seeded from the image")
        try "kept in the volume\n".write(toFile: state + "/volumes/site/index.html", atomically: true, encoding: .utf8)
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "kept in the volume\n")
        try (config.replacingOccurrences(of: "    volume site:/www", with: "    volume site:/www\n    env A=1"))
            .write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let (reloaded, out, rerr) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(reloaded == 0 && out.contains("redeployed web"), "\(out)\(rerr)")
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "kept in the volume\n", "the new version mounts the same volume")
        #expect(serve.terminate() == 0)
        serve = try ServeProcess(config: config, stateDir: state)
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "kept in the volume\n", "and so does a new serve")
        #expect(serve.terminate() == 0)
        #expect(try String(contentsOfFile: state + "/volumes/site/index.html", encoding: .utf8) == "kept in the volume\n")
    }

    /// An app with no path, host or port is a worker: started and supervised,
    /// passing its gate by running, never routed.
    @Test func aWorkerRunsWithoutARouteOrAPort() throws {
        let state = try busyboxState()
        try webImage(state, tag: "jobs:1")
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:0
        workers 1
        timeouts {
            drain 1s
        }
        app jobs {
            image jobs:1
            volume jobdata:/data
            command /bin/sh -c "echo ran >> /data/log; exec sleep 1000"
        }
        app other-jobs {
            image jobs:1
            command /bin/sleep 1000
        }
        """, stateDir: state)
        #expect(serve.startupLines.contains { $0.contains("[run]   jobs  started 1/1") }, "\(serve.startupLines)")
        #expect(serve.startupLines.contains { $0.contains("[run]   other-jobs  started 1/1") })
        #expect(try String(contentsOfFile: state + "/volumes/jobdata/log", encoding: .utf8) == "ran\n")
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/").1 == "404", "a worker is not routed")
        let (_, ps, _) = try runBerth(["ps", "--state-dir", state])
        #expect(ps.contains("jobs") && ps.contains("other-jobs"), "\(ps)")
        #expect(serve.terminate() == 0)
    }

    /// A secret is readable inside its container only: not in serve's output
    /// or log, `berth ps`, the status files or an error.
    @Test func aSecretAppearsOnlyInsideTheContainer() throws {
        let state = try busyboxState()
        try webImage(state, tag: "sec:1")
        let value = "planted-\(UUID().uuidString)"
        let secretFile = state + "/../db-password"
        try value.write(toFile: secretFile, atomically: true, encoding: .utf8)
        try "API_TOKEN=\(value)-env\n".write(toFile: state + "/../web.env", atomically: true, encoding: .utf8)
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:0
        workers 1
        app reader {
            image sec:1
            secret db-password \(secretFile)
            env-file \(state)/../web.env
            volume out:/out
            command /bin/sh -c "cat /run/secrets/db-password > /out/copy; stat -c '%a' /run/secrets/db-password > /out/mode; echo $API_TOKEN > /out/env; exec sleep 1000"
        }
        """, stateDir: state)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: state + "/volumes/out/env") { usleep(50_000) }
        #expect(try String(contentsOfFile: state + "/volumes/out/copy", encoding: .utf8) == value)
        #expect(try String(contentsOfFile: state + "/volumes/out/mode", encoding: .utf8) == "400\n")
        #expect(try String(contentsOfFile: state + "/volumes/out/env", encoding: .utf8) == value + "-env\n")
        let (_, ps, _) = try runBerth(["ps", "--state-dir", state])
        var seen = ps + ((try? String(contentsOfFile: state + "/ps.json", encoding: .utf8)) ?? "")
        #expect(seen.contains("reader"))
        #expect(serve.terminate() == 0)
        seen += serve.lines.joined(separator: "\n")
        seen += (try? String(contentsOfFile: state + "/serve.err", encoding: .utf8)) ?? ""
        for f in (try FileManager.default.contentsOfDirectory(atPath: state)) where f.hasSuffix(".json") || f.hasSuffix(".status") || f.hasSuffix(".log") {
            seen += (try? String(contentsOfFile: state + "/" + f, encoding: .utf8)) ?? ""
        }
        for f in (try FileManager.default.contentsOfDirectory(atPath: state + "/logs")) {
            seen += (try? String(contentsOfFile: state + "/logs/" + f, encoding: .utf8)) ?? ""
        }
        #expect(!seen.contains(value), "the secret leaked")
    }

    /// `health exec`: a command inside the container gates the replica, and
    /// `fall` failures in a row take it out of routing until `rise` passes.
    @Test func healthExecGatesAndChecks() throws {
        let state = try busyboxState()
        try webImage(state, tag: "checked:1")
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:0
        workers 1
        timeouts {
            drain 1s
        }
        app web {
            path /web
            image checked:1
            port 8000
            volume checked-site:/www
            health exec /bin/busybox test -f /www/index.html interval 200ms timeout 2s fall 2 rise 1
        }
        """, stateDir: state)
        #expect(serve.startupLines.contains { $0.contains("[run]   web  started 1/1") && $0.contains("healthy in") }, "\(serve.startupLines)")
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/web/").1 == "hello from a container\n")
        let page = state + "/volumes/checked-site/index.html"
        try FileManager.default.moveItem(atPath: page, toPath: page + ".away")
        var out = false
        for _ in 0..<50 {
            let (_, ps, _) = try runBerth(["ps", "--state-dir", state])
            if ps.contains(" checking ") { out = true; break }
            usleep(100_000)
        }
        if out {
            let code = try shell("curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/web/").1
            #expect(code != "200", "not routed while failing: \(code)")
        }
        #expect(out, "two failed checks take the replica out of routing")
        try FileManager.default.moveItem(atPath: page + ".away", toPath: page)
        var back = false
        for _ in 0..<50 {
            if try shell("curl -s -m 1 http://127.0.0.1:\(serve.port)/web/").1 == "hello from a container\n" { back = true; break }
            usleep(100_000)
        }
        #expect(back, "one passing check brings it back")
        #expect(serve.terminate() == 0)
    }
}

import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The container side of `berth serve` over time: a SIGHUP redeploys a
/// changed app blue-green while a client runs, a broken new version is
/// rolled back, a killed replica comes back and is routed again, ps, logs
/// and stop work (a SIGKILLed serve's apps live on: ServeKeeperTests).
@Suite(.serialized) struct ServeLifecycleTests {
    func app(_ state: String, body: String) throws -> String {
        let ctx = URL(fileURLWithPath: state).deletingLastPathComponent().path + "/web"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try body.write(toFile: ctx + "/index.html", atomically: true, encoding: .utf8)
        try """
            FROM busybox
            COPY index.html /www/index.html
            CMD ["/bin/sh", "-c", "echo serving on $(hostname); exec busybox httpd -f -p 8000 -h /www"]

            """.write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
        return ctx
    }

    func config(_ ctx: String, replicas: Int = 2) -> String {
        """
        listen 127.0.0.1:0
        workers 2
        timeouts {
            drain 3s
            start 20s
        }
        app web {
            path /web
            build \(ctx)
            port 8000
            replicas \(replicas)
            health GET / interval 1s timeout 1s
        }
        """
    }

    func get(_ port: Int) throws -> String { try shell("curl -s --max-time 25 http://127.0.0.1:\(port)/web/").1 }

    func mounts(_ state: String) throws -> Int {
        Int(try shell("mount | grep -c '\(state)/containers' || true").1.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func reloadRedeploysBlueGreenRollsBackAndStops() throws {
        let state = try busyboxState()
        let ctx = try app(state, body: "v1\n")
        let serve = try ServeProcess(config: config(ctx), stateDir: state)
        #expect(try get(serve.port) == "v1\n")
        let firstContainers = Set(try FileManager.default.contentsOfDirectory(atPath: state + "/containers"))
        #expect(firstContainers.count == 2)

        // A client runs through the whole redeploy.
        let wrk = try Background(["wrk", "-t1", "-c4", "-d8s", "http://127.0.0.1:\(serve.port)/web/"])
        Thread.sleep(forTimeInterval: 1)
        try "v2\n".write(toFile: ctx + "/index.html", atomically: true, encoding: .utf8)
        let (status, out, err) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(status == 0, "\(out)\(err)")
        #expect(out.contains("redeployed web"), "\(out)")
        #expect(try get(serve.port) == "v2\n")
        let load = wrk.finish()
        #expect(!load.contains("Socket errors") && !load.contains("Non-2xx"), "\(load)")
        let requests = Int(load.split(separator: "\n").first { $0.contains("requests in") }?
            .trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
        #expect(requests > 100, "\(load)")
        // The old version drained and stopped: only the new replicas are left.
        #expect(eventually(15) { (try? FileManager.default.contentsOfDirectory(atPath: state + "/containers"))
            .map { Set($0).isDisjoint(with: firstContainers) && $0.count == 2 } ?? false })
        #expect(serve.lines.contains { $0.contains("stopping old version") })

        // Unchanged: nothing redeployed.
        let (same, sameOut, _) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(same == 0 && !sameOut.contains("redeployed"), "\(sameOut)")

        // A broken new version is rolled back; v2 keeps serving.
        try "FROM busybox\nRUN exit 3\n".write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
        let (bad, badOut, badErr) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(bad == 1, "\(badOut)")
        #expect(badErr.contains("rolled back") && badErr.contains("app web:") && badErr.contains("exit"), "\(badErr)")
        #expect(try get(serve.port) == "v2\n")

        // ps: two live, healthy replicas; logs: both replicas' output.
        let (psStatus, ps, _) = try runBerth(["ps", "--state-dir", state])
        #expect(psStatus == 0)
        let rows = ps.split(separator: "\n").dropFirst()
        #expect(rows.count == 2 && rows.allSatisfy { $0.contains("running") && $0.contains("healthy") && $0.contains("live") }, "\(ps)")
        let (logsStatus, logs, _) = try runBerth(["logs", "web", "--state-dir", state])
        #expect(logsStatus == 0)
        #expect(logs.contains("web-1 | ") && logs.contains("web-2 | ") && logs.contains("serving on web-1"), "\(logs)")
        let (_, tail, _) = try runBerth(["logs", "web", "--tail", "1", "--state-dir", state])
        #expect(tail.split(separator: "\n").count == 1)

        // stop: drains, stops the containers, unmounts, exits.
        let (stopStatus, stopOut, _) = try runBerth(["stop", "--state-dir", state])
        #expect(stopStatus == 0 && stopOut.contains("stopped berth serve"), "\(stopOut)")
        serve.process.waitUntilExit()
        #expect(serve.process.terminationStatus == 0)
        #expect(try mounts(state) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: state + "/containers").isEmpty)
    }

    @Test func killedReplicaRestartsAndIsRoutedAgain() throws {
        let state = try busyboxState()
        let ctx = try app(state, body: "alive\n")
        let serve = try ServeProcess(config: config(ctx, replicas: 1), stateDir: state)
        defer { _ = serve.terminate() }
        #expect(try get(serve.port) == "alive\n")
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: state + "/containers").first)
        // Killed as a request reaches it: the request (padded past 1,000
        // bytes, unlike a health check's) waits in the stopped server's
        // listen queue, an established connection to port 8000 (1F40) in the
        // container's namespace, then the kill resets it.
        let pid = try #require(Int32(try shell("runc --root \(state)/runc state \(id) | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'").1
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGSTOP) == 0)
        let during = try Background(["curl", "-s", "-i", "--max-time", "25", "-H", "X-Pad: " + String(repeating: "p", count: 1000),
                                     "http://127.0.0.1:\(serve.port)/web/"])
        func requestQueued() -> Bool {
            ["tcp", "tcp6"].contains { table in
                ((try? String(contentsOfFile: "/proc/\(pid)/net/\(table)", encoding: .utf8)) ?? "").split(separator: "\n").contains {
                    // sl local remote st tx_queue:rx_queue ...
                    let f = $0.split(separator: " ")
                    return f.count > 4 && f[1].hasSuffix(":1F40") && f[3] == "01"
                        && (f[4].split(separator: ":").last.flatMap { Int($0, radix: 16) } ?? 0) > 1000
                }
            }
        }
        #expect(eventually(10) { requestQueued() })
        #expect(try shell("runc --root \(state)/runc kill \(id) KILL").0 == 0)
        // The request is not answered 502: it waits for the restart (timeouts
        // start) and goes to the new run; so do requests during the restart.
        let answer = during.finish()
        #expect(answer.hasSuffix("\r\n\r\nalive\n"), "\(answer)\n\(serve.lines.suffix(20).joined(separator: "\n"))")
        #expect(try get(serve.port) == "alive\n")
        // ps: APP REPLICA CONTAINER IMAGE STATE HEALTH UPTIME RESTARTS VERSION
        func row() -> [Substring] {
            (try? runBerth(["ps", "--state-dir", state]).1)?.split(separator: "\n").dropFirst().first?
                .split(separator: " ", omittingEmptySubsequences: true) ?? []
        }
        #expect(eventually(10) { let r = row(); return r.count == 9 && r[7] == "1" && r[5] == "healthy" }, "\(row())")
    }
}

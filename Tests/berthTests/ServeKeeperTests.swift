import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Containers outlive serve under their keepers (`berth shim`): a SIGKILLed
/// serve's apps go on answering inside their namespaces, the next serve
/// adopts those that still match the config (same container, no restart)
/// and replaces the rest; a keeper that dies is replaced and its container
/// restarted.
@Suite(.serialized) struct ServeKeeperTests {
    /// Two apps from one busybox httpd context; `b` has `env` `tag`.
    func setUp(_ state: String) throws -> String {
        let ctx = URL(fileURLWithPath: state).deletingLastPathComponent().path + "/kept"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "kept\n".write(toFile: ctx + "/index.html", atomically: true, encoding: .utf8)
        try "FROM busybox\nCOPY index.html /www/index.html\nSTOPSIGNAL SIGKILL\nCMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8000\", \"-h\", \"/www\"]\n"
            .write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
        return ctx
    }

    func config(_ ctx: String, tag: String) -> String {
        """
        listen 127.0.0.1:0
        workers 1
        app a {
            path /a
            build \(ctx)
            port 8000
            strip-prefix on
        }
        app b {
            path /b
            build \(ctx)
            port 8000
            strip-prefix on
            env TAG=\(tag)
        }
        """
    }

    /// Container ids by app, from `berth ps` (APP REPLICA CONTAINER ... UPTIME RESTARTS VERSION).
    func ps(_ state: String) throws -> [String: [Substring]] {
        let out = try runBerth(["ps", "--state-dir", state]).1
        var rows: [String: [Substring]] = [:]
        for line in out.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count == 9 { rows[String(f[0])] = f }
        }
        return rows
    }

    func mounts(_ state: String) throws -> Int {
        Int(try shell("mount | grep -c '\(state)/containers' || true").1.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func killedServeLeavesAppsRunningAndTheNextAdoptsThem() throws {
        let state = try busyboxState()
        let ctx = try setUp(state)
        let first = try ServeProcess(config: config(ctx, tag: "one"), stateDir: state)
        #expect(try shell("curl -s http://127.0.0.1:\(first.port)/a/").1 == "kept\n")
        let before = try ps(state)
        let (a, b) = (try #require(before["a"]?[2]), try #require(before["b"]?[2]))
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        // Nobody routes to them now, but both answer inside their namespaces.
        for id in [a, b] {
            let pid = try String(contentsOfFile: "\(state)/containers/\(id)/init.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try shell("nsenter -t \(pid) -n curl -s http://127.0.0.1:8000/").1 == "kept\n")
        }
        Thread.sleep(forTimeInterval: 1.1)  // uptimes go on: the adopted ones show more than a second
        // b's settings changed meanwhile: it alone is replaced.
        let second = try ServeProcess(config: config(ctx, tag: "two"), stateDir: state)
        #expect(second.startupLines.contains { $0.contains("[run]   a  adopted 1/1") }, "\(second.startupLines)")
        #expect(second.startupLines.contains { $0.contains("[run]   b  started 1/1") }, "\(second.startupLines)")
        #expect(second.startupLines.contains { $0.contains("stopping 1 container(s) of an earlier serve") && $0.contains(String(b)) })
        #expect(try shell("curl -s http://127.0.0.1:\(second.port)/a/").1 == "kept\n")
        #expect(try shell("curl -s http://127.0.0.1:\(second.port)/b/").1 == "kept\n")
        let after = try ps(state)
        #expect(after["a"]?[2] == a, "the same container, not restarted")
        #expect(after["a"]?[7] == "0")
        #expect(after["a"]?[6].hasSuffix("s") == true && after["a"]?[6] != "0s", "its original uptime: \(after)")
        #expect(after["b"]?[2] != b)
        #expect(try mounts(state) == 2)
        #expect(second.terminate() == 0)
        #expect(try mounts(state) == 0)
        #expect(try shell("pgrep -f '[b]erth shim \(state)/' || true").1.isEmpty)
    }

    @Test func aKilledKeeperIsReplacedAndItsContainerRestarted() throws {
        let state = try busyboxState()
        let ctx = try setUp(state)
        let serve = try ServeProcess(config: config(ctx, tag: "one"), stateDir: state)
        defer { _ = serve.terminate() }
        let id = try #require(try ps(state)["a"]?[2])
        let oldInit = try String(contentsOfFile: "\(state)/containers/\(id)/init.pid", encoding: .utf8)
        #expect(try shell("pkill -KILL -f '[b]erth shim \(state)/containers/\(id)'").0 == 0)
        #expect(serve.waitForLine(timeout: 10) { $0.contains("keeper of \(id) exited; restarting its container") } != nil)
        // The old run is gone (not left unsupervised), a new one is routed.
        #expect(eventually(15) { (try? shell("curl -s --max-time 5 http://127.0.0.1:\(serve.port)/a/").1) == "kept\n" })
        let newInit = try String(contentsOfFile: "\(state)/containers/\(id)/init.pid", encoding: .utf8)
        #expect(newInit != oldInit)
        #expect(kill(Int32(oldInit.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0) != 0, "the old run was killed")
        #expect(eventually(10) { (try? ps(state)["a"]?[7]) == "1" })
        // Its root file system is mounted once, as before (not again per keeper).
        let mounted = try shell("mount | grep '\(state)/containers/\(id)/' || true").1
        #expect(mounted.split(separator: "\n").count == 1, "mounted once: \(mounted)")
    }

    /// The keeper's socket: `status` answers, `follow` streams the log lines
    /// the keeper writes (here: the container's exit and restart).
    @Test func theKeeperSocketAnswersStatusAndFollowsTheLog() throws {
        let state = try busyboxState()
        let ctx = try setUp(state)
        let serve = try ServeProcess(config: config(ctx, tag: "one"), stateDir: state)
        defer { _ = serve.terminate() }
        let id = try #require(try ps(state)["a"]?[2])
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/containers/\(id)/keeper.json"))) as? [String: Any]
        let socket = try #require(spec?["socket"] as? String)
        let script = try writeTemp("""
            import json, socket, sys
            def ask(line):
                s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(line.encode()); return s
            st = json.loads(ask("status\\n").makefile().readline()[len("status "):])
            print(st["container"]["state"], st["keeperPID"] > 0, flush=True)
            f = ask("follow\\n").makefile()
            print("following", flush=True)
            print(f.readline().strip(), flush=True)
            """, name: "keeper.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, socket]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        #expect(nextLine(of: out) == "running True")
        #expect(nextLine(of: out) == "following")
        #expect(try shell("runc --root \(state)/runc kill \(id) KILL").0 == 0)
        let line = nextLine(of: out) ?? ""
        #expect(line.contains("container exited with status") && line.contains("restarting"), "\(line)")
    }
}

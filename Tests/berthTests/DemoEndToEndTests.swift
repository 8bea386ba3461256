import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The mission in one test: `berth serve` on the repo's proxy.conf builds
/// the three demo apps (Debian bases made by mmdebstrap, Debian packages),
/// routes /ruby /python /go to their containers, redeploys a changed app on
/// reload with a client running and no failed request, keeps serving the
/// old version when the new one does not build, and SIGTERM leaves nothing
/// mounted. Works on a copy of apps/ so the repo is not touched.
@Suite(.serialized) struct DemoEndToEndTests {
    /// What each demo app answers: the line of its language that prints hello world.
    static let answers: KeyValuePairs<String, String> = [
        "ruby": "puts 'Hello world!'",
        "python": "print('Hello world!')",
        "go": #"fmt.Println("Hello world!")"#,
    ]
    static func answer(_ app: String) -> String { answers.first { $0.key == app }!.value }
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func demoAppsServeRedeployAndStop() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("berth-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        #expect(try shell("cp -r \(Self.repo)/apps \(work)/apps").0 == 0)
        // The Debian bases and package layers are a cache worth keeping between runs.
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("berth-demo-state").path
        var conf = try String(contentsOfFile: Self.repo + "/proxy.conf", encoding: .utf8)
        conf = conf.replacingOccurrences(of: "listen :8080", with: "listen 127.0.0.1:0")
            .replacingOccurrences(of: "access-log stdout", with: "access-log off")
            .replacingOccurrences(of: "build apps/", with: "build \(work)/apps/")
        #expect(conf.contains("build \(work)/apps/ruby") && conf.contains("build \(work)/apps/go"))
        let serve = try ServeProcess(config: conf, stateDir: state)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        print(serve.lines.filter { $0.hasPrefix("[run]") || $0.hasPrefix("[serve]") }.joined(separator: "\n"))
        // Each answers with its language's hello-world line, as the classic demo does.
        for (app, line) in Self.answers {
            #expect(try shell("curl -s --max-time 30 http://127.0.0.1:\(serve.port)/\(app)/").1 == line + "\n", "\(app)")
        }

        // A source change, a reload, and a client that never sees a failure.
        let wrk = try Background(["wrk", "-t1", "-c4", "-d10s", "http://127.0.0.1:\(serve.port)/python/"])
        Thread.sleep(forTimeInterval: 1)
        let source = work + "/apps/python/app.py"
        let text = try String(contentsOfFile: source, encoding: .utf8)
        #expect(text.contains("print('Hello world!')"))
        try text.replacingOccurrences(of: "print('Hello world!')", with: "print('Hello again!')").write(toFile: source, atomically: true, encoding: .utf8)
        let (status, out, err) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(status == 0 && out.contains("redeployed python") && !out.contains("ruby") && !out.contains(",go"), "\(out)\(err)")
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/python/").1 == "print('Hello again!')\n")
        let load = wrk.finish()
        print(load)
        #expect(!load.contains("Socket errors") && !load.contains("Non-2xx"), "\(load)")
        #expect(load.contains("requests in"))

        // A Dockerfile that no longer builds: go keeps serving its running version.
        try "FROM debian:bookworm-slim\nRUN exit 7\n".write(toFile: work + "/apps/go/Dockerfile", atomically: true, encoding: .utf8)
        let (bad, _, badErr) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(bad == 1 && badErr.contains("app go:"), "\(badErr)")
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/go/").1 == Self.answer("go") + "\n")
        #expect(try shell("curl -s http://127.0.0.1:\(serve.port)/ruby/").1 == Self.answer("ruby") + "\n")

        #expect(serve.terminate() == 0)
        #expect(try shell("mount | grep -c '\(state)/containers' || true").1.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state + "/containers").isEmpty)
        try? FileManager.default.removeItem(atPath: work)
    }
}

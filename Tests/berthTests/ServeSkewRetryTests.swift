import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `skew-retry on` with real containers: during a blue-green redeploy, an
/// asset only the old version has (a page it rendered links it) still loads
/// while the old version drains, and is a 404 once it has stopped.
@Suite(.serialized) struct ServeSkewRetryTests {
    @Test func anOldVersionsAssetLoadsDuringTheDrainAndNotAfter() throws {
        let state = try busyboxState()
        let ctx = URL(fileURLWithPath: state).deletingLastPathComponent().path + "/skew"
        try FileManager.default.createDirectory(atPath: ctx + "/www/cgi-bin", withIntermediateDirectories: true)
        try "v1\n".write(toFile: ctx + "/www/index.html", atomically: true, encoding: .utf8)
        try "old css\n".write(toFile: ctx + "/www/old.css", atomically: true, encoding: .utf8)
        // A slow page keeps the old version draining for a few seconds.
        try "#!/bin/sh\nsleep 5\nprintf 'Content-Type: text/plain\\r\\n\\r\\nslow\\n'\n".write(toFile: ctx + "/www/cgi-bin/slow", atomically: true, encoding: .utf8)
        chmod(ctx + "/www/cgi-bin/slow", 0o755)
        try "FROM busybox\nCOPY www /www\nSTOPSIGNAL SIGKILL\nCMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8000\", \"-h\", \"/www\"]\n"
            .write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
        let serve = try ServeProcess(config: """
            listen 127.0.0.1:0
            workers 1
            timeouts {
                drain 30s
            }
            app web {
                path /web
                build \(ctx)
                port 8000
                skew-retry on
            }
            """, stateDir: state)
        defer { _ = serve.terminate() }
        let port = serve.port
        func get(_ path: String) throws -> String {
            try shell("curl -s -w ' %{http_code}' http://127.0.0.1:\(port)/web/\(path)").1
        }
        #expect(try get("old.css") == "old css\n 200")
        // In flight on the old version while the new one takes over.
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/bin/sh")
        slow.arguments = ["-c", "curl -s http://127.0.0.1:\(port)/web/cgi-bin/slow > \(state)/slow.out"]
        try slow.run()
        Thread.sleep(forTimeInterval: 0.3)
        try "v2\n".write(toFile: ctx + "/www/index.html", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: ctx + "/www/old.css")
        let (code, out, err) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(code == 0, "\(out)\(err)")
        #expect(try get("") == "v2\n 200")
        #expect(slow.isRunning, "the old version is still draining")
        #expect(try get("old.css") == "old css\n 200", "the new version's 404 was asked of the old one")
        #expect(try get("missing.css").hasSuffix(" 404"))
        slow.waitUntilExit()
        let slowBody = try String(contentsOfFile: state + "/slow.out", encoding: .utf8)
        #expect(slowBody.contains("slow"), "the slow request finished on the old version: \(slowBody)")
        #expect(serve.waitForLine(timeout: 10) { $0.contains("[run]   web  stopping old version") } != nil)
        #expect(eventually(5) { (try? get("old.css"))?.hasSuffix(" 404") == true }, "no old version left to ask")
    }
}

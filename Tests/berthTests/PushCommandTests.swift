import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth tag` and `berth push` through the CLI to a docker-registry of the
/// test's own, then `berth pull` into an empty state dir and `berth run` of
/// what came back.
@Suite(.serialized) struct PushCommandTests {
    @Test func pushPullRunRoundTrip() throws {
        let state = try busyboxState()
        let dir = URL(fileURLWithPath: state).deletingLastPathComponent().path
        let port = try #require(Int(try shell("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'").1.trimmingCharacters(in: .whitespacesAndNewlines)))
        try "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: \(dir)/registry\nhttp:\n  addr: 127.0.0.1:\(port)\n"
            .write(toFile: dir + "/registry.yml", atomically: true, encoding: .utf8)
        let registry = Process()
        registry.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        registry.arguments = ["serve", dir + "/registry.yml"]
        registry.standardOutput = FileHandle.nullDevice
        registry.standardError = FileHandle.nullDevice
        try registry.run()
        defer { kill(registry.processIdentifier, SIGKILL) }
        var up = false
        for _ in 0..<100 where !up {
            up = try shell("curl -sf http://127.0.0.1:\(port)/v2/ >/dev/null").0 == 0
            if !up { usleep(50_000) }
        }
        #expect(up, "docker-registry did not start")
        let name = "127.0.0.1:\(port)/team/bb:1"
        let (t, tagged, _) = try runBerth(["tag", "busybox", name, "--state-dir", state])
        #expect(t == 0 && tagged.contains("as \(name)"), "\(tagged)")
        let (p, pushed, perr) = try runBerth(["push", name, "--insecure-registry", "127.0.0.1:\(port)", "--state-dir", state])
        #expect(p == 0, "\(perr)")
        #expect(pushed.contains("layer 1/1") && pushed.contains("2 blobs uploaded"), "\(pushed)")
        let (again, out2, _) = try runBerth(["push", name, "--insecure-registry", "127.0.0.1:\(port)", "--state-dir", state])
        #expect(again == 0 && out2.contains("0 blobs uploaded, 2 already there"), "\(out2)")

        let empty = dir + "/state2"
        let (pl, _, plErr) = try runBerth(["pull", name, "--insecure-registry", "127.0.0.1:\(port)", "--state-dir", empty])
        #expect(pl == 0, "\(plErr)")
        let (r, said, rErr) = try runBerth(["run", "--rm", "--state-dir", empty, name, "sh", "-c", "echo back from the registry"])
        #expect(r == 0 && said == "back from the registry\n", "\(said)\(rErr)")
        // export --push runs the pushes its manifests expect.
        let config = try writeTemp("listen :80\napp bb {\n path /bb\n image busybox\n port 8000\n}\n")
        let (e, exported, eErr) = try runBerth(["export", "kubernetes", "--config", config, "--registry", "127.0.0.1:\(port)/exported",
                                                "--push", "--insecure-registry", "127.0.0.1:\(port)", "-o", dir + "/k8s", "--state-dir", state])
        #expect(e == 0, "\(eErr)")
        #expect(exported.contains("pushed 127.0.0.1:\(port)/exported/busybox:latest"), "\(exported)")
        #expect(try String(contentsOfFile: dir + "/k8s/bb.yaml", encoding: .utf8).contains("image: \"127.0.0.1:\(port)/exported/busybox:latest\""))
        let (bad, _, badErr) = try runBerth(["push", "nosuch:1", "127.0.0.1:\(port)/x:1", "--insecure-registry", "127.0.0.1:\(port)", "--state-dir", state])
        #expect(bad == 1 && badErr.contains("no such image: nosuch:1"))
    }
}

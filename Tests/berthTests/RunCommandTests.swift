import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A state dir with `busybox` imported (Debian's busybox-static, applets as links).
func busyboxState() throws -> String {
    let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
    try FileManager.default.createDirectory(atPath: dir + "/rootfs/bin", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir + "/rootfs/bin/busybox")
    for tool in ["sh", "sleep", "echo", "cat", "ps", "hostname", "wget", "id"] {
        try FileManager.default.createSymbolicLink(atPath: dir + "/rootfs/bin/\(tool)", withDestinationPath: "busybox")
    }
    #expect(try shell("tar -C \(dir)/rootfs -cf \(dir)/busybox.tar .").0 == 0)
    #expect(try runBerth(["image", "import", dir + "/busybox.tar", "busybox", "--state-dir", dir + "/state"]).0 == 0)
    return dir + "/state"
}

@Suite(.serialized) struct RunCommandTests {
    @Test func securityOptSeccompUnconfined() throws {
        let state = try busyboxState()
        let status = "busybox grep -E '^(Seccomp|NoNewPrivs):' /proc/1/status"
        let (s1, confined, _) = try runBerth(["run", "--rm", "--state-dir", state, "busybox", "sh", "-c", status])
        #expect(s1 == 0 && confined.contains("Seccomp:\t2") && confined.contains("NoNewPrivs:\t1"), "\(confined)")
        let (s2, open, _) = try runBerth(["run", "--rm", "--security-opt", "seccomp=unconfined", "--state-dir", state, "busybox", "sh", "-c", status])
        #expect(s2 == 0 && open.contains("Seccomp:\t0") && open.contains("NoNewPrivs:\t1"), "\(open)")
        let (bad, _, err) = try runBerth(["run", "--rm", "--security-opt", "apparmor=x", "--state-dir", state, "busybox", "true"])
        #expect(bad == 125 && err.contains("--security-opt: expected seccomp=unconfined"))
    }

    @Test func exitStatusEnvironmentAndIsolation() throws {
        let state = try busyboxState()
        let (status, out, _) = try runBerth(["run", "--rm", "-e", "GREETING=hi", "--state-dir", state, "busybox",
                                             "sh", "-c", "echo $GREETING; echo $$; busybox ps -o pid | busybox wc -l; exit 7"])
        #expect(status == 7)
        // Its own pid namespace: the shell is PID 1, and ps sees only sh, ps and
        // (if it has started yet) wc — header included, 3 or 4 lines, never the host's.
        let lines = out.split(separator: "\n")
        #expect(lines.count == 3 && lines[0] == "hi" && lines[1] == "1")
        #expect(lines.count == 3 && (Int(lines[2]) ?? 0) >= 3 && (Int(lines[2]) ?? 99) <= 4)
        // Its own network namespace: the host's 127.0.0.1 services are out of reach.
        let host = try RawHTTPServer()
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(host.port)/").1 == "200")
        let (reach, reachOut, _) = try runBerth(["run", "--rm", "--state-dir", state, "busybox", "sh", "-c",
                                                 "wget -q -T 2 -O- http://127.0.0.1:\(host.port)/ && echo reached || echo isolated"])
        #expect(reach == 0 && reachOut == "isolated\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state + "/containers").isEmpty)
    }

    @Test func interruptStopsTheContainer() throws {
        let state = try busyboxState()
        let p = Process()
        p.executableURL = berthBinary()
        p.arguments = ["run", "--rm", "--grace", "1", "--state-dir", state, "busybox", "sleep", "100"]
        try p.run()
        Thread.sleep(forTimeInterval: 1)
        let start = Date()
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(p.terminationStatus == 137)  // sleep as PID 1 ignores SIGTERM: SIGKILL after the grace
        #expect(try shell("mount | grep -c '\(state)/containers' || true").1.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }
}

/// A one-response HTTP server on the host's 127.0.0.1 (python3 -m http.server).
final class RawHTTPServer {
    let process = Process()
    let port: Int

    init() throws {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        close(probe)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", "/tmp"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<50 where (try? shell("curl -s -o /dev/null http://127.0.0.1:\(port)/").0) != 0 {
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

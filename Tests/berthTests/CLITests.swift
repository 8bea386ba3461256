import Testing
import Foundation

/// The built `berth` binary next to the test bundle.
func berthBinary() -> URL {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("berth"),
        Bundle.main.bundleURL.appendingPathComponent("berth"),
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("berth"),
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
}

/// Runs berth with `args`; returns exit status, stdout and stderr.
func runBerth(_ args: [String]) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = berthBinary()
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// A command running in the background; `finish()` waits and returns its stdout.
final class Background {
    let process = Process()
    private let out = Pipe()

    init(_ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        process.standardOutput = out
        try process.run()
    }

    func finish() -> String {
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }
}

func writeTemp(_ text: String, name: String = "proxy.conf") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct CheckCommandTests {
    @Test func validConfigExitsZero() throws {
        let path = try writeTemp("listen :8080\napp a {\n  path /a\n  upstream 127.0.0.1:9000\n}\n")
        let (status, out, _) = try runBerth(["check", "--config", path])
        #expect(status == 0)
        #expect(out.contains("ok"))
    }

    @Test func invalidConfigExitsOneWithLocation() throws {
        let path = try writeTemp("listen :8080\napp a {\n  pathh /a\n  upstream 127.0.0.1:9000\n}\n")
        let (status, _, err) = try runBerth(["check", "--config", path])
        #expect(status == 1)
        #expect(err.contains("\(path):3:3: error: unknown directive 'pathh'"))
        #expect(err.contains("did you mean 'path'?"))
        #expect(!err.contains("Fatal error"))
    }

    @Test func missingFileExitsOne() throws {
        let (status, _, err) = try runBerth(["check", "--config", "/nonexistent/proxy.conf"])
        #expect(status == 1)
        #expect(err.contains("cannot open config file"))
    }

    @Test func repoProxyConfIsValid() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (status, out, err) = try runBerth(["check", "--config", repo.appendingPathComponent("proxy.conf").path])
        #expect(status == 0, "\(err)")
        #expect(out.contains("/ruby"))
    }

    @Test func serveRefusesInvalidConfig() throws {
        let path = try writeTemp("listen :8080\nworkers 0\n")
        let (status, _, err) = try runBerth(["serve", "--config", path, "--state-dir", URL(fileURLWithPath: path).deletingLastPathComponent().path])
        #expect(status == 1)
        #expect(err.contains(":2:9: error:"))
    }
}

@Suite struct DockerfileDumpCommandTests {
    let cases = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/conformance/dockerfile-parser")

    @Test func dumpPrintsBuildKitsFormat() throws {
        let dir = cases.appendingPathComponent("testfiles/json")
        let (status, out, _) = try runBerth(["dockerfile", "dump", dir.appendingPathComponent("Dockerfile").path])
        #expect(status == 0)
        #expect(out == (try String(contentsOf: dir.appendingPathComponent("result"), encoding: .utf8)))
    }

    @Test func parseErrorsNameFileAndLine() throws {
        let path = cases.appendingPathComponent("testfiles-negative/env_no_value/Dockerfile").path
        let (status, _, err) = try runBerth(["dockerfile", "dump", path])
        #expect(status == 1)
        #expect(err.contains("\(path):3: ENV must have two arguments"))
    }
}

@Suite struct ImageCommandTests {
    @Test func importListInspectRemovePrune() throws {
        let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: dir + "/rootfs/bin", withIntermediateDirectories: true)
        try "echo hi\n".write(toFile: dir + "/rootfs/bin/hello", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-C", dir + "/rootfs", "-cf", dir + "/rootfs.tar", "."]
        try tar.run()
        tar.waitUntilExit()
        let (s1, out1, _) = try runBerth(["image", "import", dir + "/rootfs.tar", "tiny:1", "--state-dir", state])
        #expect(s1 == 0 && out1.hasPrefix("imported tiny:1 sha256:"))
        let (s2, list, _) = try runBerth(["images", "--state-dir", state])
        #expect(s2 == 0)
        #expect(list.split(separator: "\n").count == 2)
        #expect(list.contains("tiny") && list.contains("8B"))
        let (s3, json, _) = try runBerth(["inspect", "tiny:1", "--state-dir", state])
        #expect(s3 == 0)
        let config = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(config?["os"] as? String == "linux")
        #expect((config?["rootfs"] as? [String: Any])?["diff_ids"] as? [String] != nil)
        #expect(try runBerth(["rmi", "tiny:1", "--state-dir", state]).0 == 0)
        #expect(try runBerth(["inspect", "tiny:1", "--state-dir", state]).0 == 1)
        #expect(try runBerth(["prune", "--state-dir", state]).1 == "freed 8B\n")
    }
}

@Suite(.serialized) struct BuildCommandTests {
    /// `berth build` then `berth inspect`: ENTRYPOINT and CMD as Docker sets them.
    @Test func buildThenInspect() throws {
        let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: dir + "/rootfs/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir + "/rootfs/bin/busybox")
        try FileManager.default.createSymbolicLink(atPath: dir + "/rootfs/bin/sh", withDestinationPath: "busybox")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-C", dir + "/rootfs", "-cf", dir + "/busybox.tar", "."]
        try tar.run()
        tar.waitUntilExit()
        #expect(try runBerth(["image", "import", dir + "/busybox.tar", "busybox", "--state-dir", state]).0 == 0)
        try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
        try "FROM busybox\nARG WHO=world\nRUN echo \"hello $WHO\" > /greeting\nENTRYPOINT [\"/bin/busybox\", \"cat\"]\nCMD [\"/greeting\"]\n"
            .write(toFile: dir + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        let (status, out, err) = try runBerth(["build", dir + "/ctx", "-t", "hello:1", "--build-arg", "WHO=berth", "--state-dir", state])
        #expect(status == 0, "\(err)")
        #expect(out.contains("#3 [stage-0 3/5] RUN echo \"hello $WHO\" > /greeting"))
        #expect(out.contains("writing image sha256:") && out.contains("as hello:1"))
        let (again, out2, _) = try runBerth(["build", dir + "/ctx", "-t", "hello:1", "--build-arg", "WHO=berth", "--state-dir", state])
        #expect(again == 0 && out2.contains("#3 CACHED"))
        let (s2, json, _) = try runBerth(["inspect", "hello:1", "--state-dir", state])
        #expect(s2 == 0)
        let config = (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["config"] as? [String: Any]
        #expect(config?["Entrypoint"] as? [String] == ["/bin/busybox", "cat"])
        #expect(config?["Cmd"] as? [String] == ["/greeting"])
        let (bad, _, badErr) = try runBerth(["build", dir + "/ctx", "-f", dir + "/nope", "--state-dir", state])
        #expect(bad == 1 && badErr.contains("cannot read"))
    }
}

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
    /// The reference comes from the parser's own tables, and the README
    /// names every directive in it (a new one can't go undocumented).
    @Test func directivesReferenceMatchesTheParserAndTheReadme() throws {
        let (status, out, _) = try runBerth(["check", "--directives"])
        #expect(status == 0)
        let rows = out.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let names = Set(rows.compactMap { $0.count > 1 ? String($0[1]) : nil })
        for n in ["listen", "workers", "timeouts", "connect", "start", "header-size", "cert", "default", "app", "path", "health", "balance"] {
            #expect(names.contains(n), "\(n) missing from check --directives")
        }
        #expect(rows.first { $0.count > 1 && $0[1] == "env" }?.contains("*") == true)  // repeatable
        let readme = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md").path, encoding: .utf8)
        let spans = readme.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
        let documented = Set(spans.flatMap { $0.element.split(whereSeparator: { !$0.isLetter && $0 != "-" }).map(String.init) })
        for n in names { #expect(documented.contains(n), "README does not name the directive '\(n)'") }
        // Every name the parser rejects as unknown is outside the reference.
        let conf = try writeTemp("listen :1\ntimeouts {\n starts 1s\n}\n")
        let (bad, _, err) = try runBerth(["check", "--config", conf])
        #expect(bad == 1 && err.contains("unknown directive 'starts' in 'timeouts' (did you mean 'start'?)"))
    }

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

/// A tags.json that can't be decoded is reported, naming it, and never
/// rewritten from the bad read.
@Suite struct CorruptTagsTests {
    @Test func corruptTagListFailsEveryCommandAndIsLeftUntouched() throws {
        let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
        try "hello\n".write(toFile: dir + "/ctx/a.txt", atomically: true, encoding: .utf8)
        try "FROM scratch\nCOPY a.txt /a.txt\n".write(toFile: dir + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        for name in ["one:1", "two:1"] {
            let (s, _, e) = try runBerth(["build", dir + "/ctx", "-t", name, "--state-dir", state])
            #expect(s == 0, "\(e)")
        }
        let tagsPath = state + "/tags.json"
        let good = try Data(contentsOf: URL(fileURLWithPath: tagsPath))
        #expect(String(decoding: good, as: UTF8.self).contains("one:1") && String(decoding: good, as: UTF8.self).contains("two:1"))
        let corrupt = good.prefix(good.count / 2)  // a write cut in half
        try corrupt.write(to: URL(fileURLWithPath: tagsPath))

        let (s3, _, e3) = try runBerth(["build", dir + "/ctx", "-t", "three:1", "--state-dir", state])
        #expect(s3 == 1)
        #expect(e3.contains(tagsPath) && e3.contains("not a tag list"), "\(e3)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tagsPath)) == corrupt)

        let (s4, _, e4) = try runBerth(["images", "--state-dir", state])
        #expect(s4 == 1)
        #expect(e4.contains(tagsPath), "\(e4)")

        let conf = try writeTemp("listen 127.0.0.1:0\nstate-dir \(state)\napp a {\n path /a\n build \(dir)/ctx\n}\n")
        let (s5, _, e5) = try runBerth(["serve", "--config", conf])
        #expect(s5 == 1)
        #expect(e5.contains(tagsPath), "\(e5)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tagsPath)) == corrupt)
    }
}

@Suite struct LogsCommandTests {
    @Test func knownAppWithNoLogsYetPrintsNothingAndUnknownAppFails() throws {
        let conf = try writeTemp("listen 127.0.0.1:0\napp web {\n path /web\n build apps/web\n}\n")
        let state = URL(fileURLWithPath: conf).deletingLastPathComponent().path + "/state"
        let (s1, out1, err1) = try runBerth(["logs", "web", "--config", conf, "--state-dir", state])
        #expect(s1 == 0, "\(err1)")
        #expect(out1.isEmpty && err1.isEmpty)
        let (s2, _, err2) = try runBerth(["logs", "nope", "--config", conf, "--state-dir", state])
        #expect(s2 == 1)
        #expect(err2.contains("no app 'nope' in \(conf)") && err2.contains("apps: web"), "\(err2)")
        // Once it has logged, its lines are printed.
        try FileManager.default.createDirectory(atPath: state + "/logs", withIntermediateDirectories: true)
        try "2026-12-01T10:00:00.000Z hello\n".write(toFile: state + "/logs/web-1.log", atomically: true, encoding: .utf8)
        let (s3, out3, _) = try runBerth(["logs", "web", "--config", conf, "--state-dir", state])
        #expect(s3 == 0 && out3 == "2026-12-01T10:00:00.000Z hello\n")
    }
}

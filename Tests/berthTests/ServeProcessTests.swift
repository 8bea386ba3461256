import Testing
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `berth serve` child process on an ephemeral port.
final class ServeProcess {
    let process = Process()
    private(set) var port = 0
    let configPath: String
    let stateDir: String
    /// Every stdout line so far (a reader thread appends them).
    var lines: [String] { collected.all }
    /// The lines up to the proxy's port line, or up to "[serve] apps started"
    /// when the config has container apps.
    private(set) var startupLines: [String] = []
    private let output = Pipe()
    private let errorPath: String
    private let collected = LineLog()

    init(config: String, stateDir given: String? = nil, waitForApps: Bool? = nil) throws {
        let path = try writeTemp(config)
        configPath = path
        stateDir = given ?? URL(fileURLWithPath: path).deletingLastPathComponent().path
        process.executableURL = berthBinary()
        process.arguments = ["serve", "--config", path, "--state-dir", stateDir]
        process.standardOutput = output
        errorPath = stateDir + "/serve.err"
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        let (pipe, lines) = (output, collected)
        Thread.detachNewThread {
            while let l = nextLine(of: pipe) { lines.add(l) }
        }
        // The proxy line says the port; container apps start after it.
        guard let text = waitForLine(timeout: 60, { $0.hasPrefix("[proxy] listening") }) else {
            throw TestFailure("serve did not report its port: \(self.lines)")
        }
        guard let r = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let p = Int(text[r].split(separator: ":")[1]) else {
            throw TestFailure("serve did not report its port: \(text)")
        }
        port = p
        if waitForApps ?? (config.contains(" build ") || config.contains(" image ")) {
            guard waitForLine(timeout: 600, { $0.hasPrefix("[serve] apps started") }) != nil else {
                throw TestFailure("serve did not start its apps: \(self.lines)")
            }
        }
        startupLines = self.lines
    }

    /// Waits for a stdout line matching `match` (seen before or arriving within `timeout`).
    func waitForLine(timeout: Double, _ match: (String) -> Bool) -> String? {
        let end = Date().addingTimeInterval(timeout)
        repeat {
            if let l = lines.first(where: match) { return l }
            if !process.isRunning { return lines.first(where: match) }
            usleep(20_000)
        } while Date() < end
        return nil
    }

    /// A /proc/PID/status field in KiB.
    func statusKiB(_ field: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }

    /// What serve logged so far.
    func stderrText() -> String {
        (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
    }

    func terminate() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Its containers outlive it under their keepers: a test that did not stop it must not leave them.
            removeKeptContainers(stateDir)
        }
    }
}

/// Kills the keepers and containers a killed serve left under `state`, and unmounts them.
func removeKeptContainers(_ state: String) {
    _ = try? shell("pkill -KILL -f '[b]erth shim \(state)/containers/' ; sleep 0.1; for d in \(state)/containers/berth-*; do [ -d \"$d\" ] || continue; "
                   + "runc --root \(state)/runc delete --force \"$(basename $d)\" 2>/dev/null; umount -l \"$d/rootfs\" 2>/dev/null; rm -rf --one-file-system \"$d\"; done")
}

/// The Python upstream the proxy tests use, started as a child.
final class FixtureUpstream {
    let process = Process()
    private(set) var port = 0
    private let stdin = Pipe()

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BerthProxyTests/Fixtures/upstream.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        port = Int(firstLine(of: out)) ?? 0
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)  // SIGTERM may be blocked in a child of a test thread
        process.waitUntilExit()
    }
}

/// The first line a child process prints (without waiting for it to exit).
/// Lines gathered by one thread and read by another.
final class LineLog: Sendable {
    private let items = Mutex<[String]>([])
    func add(_ l: String) { items.withLock { $0.append(l) } }
    var all: [String] { items.withLock { $0 } }
}

/// The next line from `pipe`, or nil at end of file.
func nextLine(of pipe: Pipe) -> String? {
    var line = Data()
    while true {
        let b = pipe.fileHandleForReading.readData(ofLength: 1)
        if b.isEmpty { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
        if b == Data([0x0A]) { return String(decoding: line, as: UTF8.self) }
        line.append(b)
    }
}

func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while true {
        let b = pipe.fileHandleForReading.readData(ofLength: 1)
        if b.isEmpty || b == Data([0x0A]) { break }
        line.append(b)
    }
    return String(decoding: line, as: UTF8.self)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func shell(_ command: String) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let d = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: d, as: UTF8.self))
}

@Suite(.serialized) struct ServeProcessTests {
    /// 1 GiB each way through one proxy, over HTTP/1.1 and over one HTTP/2
    /// stream each (h2c, prior knowledge): bounded buffers, backpressure and
    /// flow control keep the proxy's peak RSS within a few MiB of where it started.
    @Test(arguments: ["http1", "h2c"]) func gigabyteTransfersKeepRSSFlat(_ proto: String) throws {
        let up = try FixtureUpstream()
        let h2 = proto == "h2c"
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\(h2 ? " h2c" : "")\nworkers 1\nlimits {\n body-size 2G\n}\napp u {\n path /u\n upstream 127.0.0.1:\(up.port)\n}\n")
        let base = "http://127.0.0.1:\(serve.port)/u"
        let curl = h2 ? "curl --http2-prior-knowledge" : "curl"
        #expect(try shell("\(curl) -sf \(base)/echo -o /dev/null").0 == 0)
        let rssBefore = serve.statusKiB("VmRSS")
        let gib = 1 << 30
        let (dl, dlBytes) = try shell("\(curl) -sf '\(base)/bytes?n=\(gib)' | wc -c")
        #expect(dl == 0)
        #expect(Int(dlBytes.trimmingCharacters(in: .whitespacesAndNewlines)) == gib)
        let (ul, ulOut) = try shell("head -c \(gib) /dev/zero | \(curl) -sf -T - \(base)/echo")
        #expect(ul == 0)
        #expect(ulOut.contains("\"body_length\": \(gib)"), "\(ulOut.prefix(300))")
        let peak = serve.statusKiB("VmHWM")
        let growthMiB = Double(peak - rssBefore) / 1024
        print("\(proto): 1 GiB down + 1 GiB up: proxy RSS \(rssBefore) KiB before, peak \(peak) KiB")
        #expect(growthMiB < (h2 ? 16 : 8), "peak RSS grew by \(growthMiB) MiB (from \(rssBefore) KiB to \(peak) KiB)")
        #expect(serve.terminate() == 0)
    }

    @Test func sigtermStopsServeWithStatusZero() throws {
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 2\n")
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/x").1 == "404")
        #expect(serve.terminate() == 0)
    }

    @Test func secondServeOnTheSamePortFailsLoudly() throws {
        let first = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 1\n")
        let path = try writeTemp("listen 127.0.0.1:\(first.port)\nworkers 1\n")
        let (status, _, err) = try runBerth(["serve", "--config", path, "--state-dir", URL(fileURLWithPath: path).deletingLastPathComponent().path])
        #expect(status == 1)
        #expect(err.contains("Address already in use"))
        #expect(first.terminate() == 0)
    }
}

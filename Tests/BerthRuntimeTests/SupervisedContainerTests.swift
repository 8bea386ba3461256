import Testing
import Foundation
@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

func sh(_ command: String) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try? p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(.serialized) struct SupervisedContainerTests {
    func container(_ args: [String], name: String) throws -> (Container, String) {
        let lower = try busyboxRootfs()
        for tool in ["httpd", "sleep", "mkdir"] {
            try? FileManager.default.createSymbolicLink(atPath: lower + "/bin/\(tool)", withDestinationPath: "busybox")
        }
        try FileManager.default.createDirectory(atPath: lower + "/www", withIntermediateDirectories: true)
        try "hello from the container\n".write(toFile: lower + "/www/index.html", atomically: true, encoding: .utf8)
        let dir = lower + "-c"
        let c = try Container(id: "\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", dir: dir, layers: [lower],
                              process: .init(args: args, env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0),
                              hostname: name, network: .isolated, runc: Runc(stateRoot: dir + "-runc"))
        return (c, dir)
    }

    @Test func runsInItsOwnNetworkLogsAndStops() throws {
        let (c, dir) = try container(["/bin/sh", "-c", "echo starting httpd; exec httpd -f -p 8000 -h /www"], name: "web")
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + "/log")
        try s.start()
        #expect(s.waitRunning(timeout: 5))
        let ns = try #require(s.netnsPath)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: ns)
                != FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net"))
        var body = ""
        for _ in 0..<50 {
            body = sh("nsenter --net=\(ns) wget -q -O- http://127.0.0.1:8000/ 2>/dev/null || busybox wget -q -O- http://127.0.0.1:8000/ 2>/dev/null; true").1
            if !body.isEmpty { break }
            usleep(100_000)
        }
        #expect(body.contains("hello from the container"))
        let start = Date()
        s.stop(grace: 2)
        #expect(Date().timeIntervalSince(start) < 4)  // PID 1 ignores SIGTERM: SIGKILL after the grace
        #expect(s.state == .stopped && s.restarts == 0 && s.pid == nil)
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        #expect(log.split(separator: "\n").contains { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z starting httpd$"#, options: .regularExpression) != nil })
    }

    @Test func crashesRestartWithBackoffAndStopHolds() throws {
        let (c, dir) = try container(["/bin/sh", "-c", "echo run; exit 3"], name: "crashy")
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + "/log")
        try s.start()
        // Runs at 0, then +0.5 s, then +1 s more: wait for the second restart, however slow the machine.
        let deadline = Date().addingTimeInterval(15)
        while s.restarts < 2 && Date() < deadline { usleep(20_000) }
        s.stop(grace: 1)
        #expect(s.restarts >= 2 && s.restarts <= 3)
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        #expect(log.components(separatedBy: " run\n").count - 1 >= s.restarts)
        #expect(log.contains("exited with status 3; restarting in 0.5s") && log.contains("restarting in 1.0s"))
        #expect(s.state == .stopped)
    }

    @Test func ignoredTermIsFollowedByKill() throws {
        let (c, dir) = try container(["/bin/sleep", "100"], name: "stubborn")
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + "/log")
        try s.start()
        #expect(s.waitRunning(timeout: 5))
        let start = Date()
        s.stop(grace: 1)
        let took = Date().timeIntervalSince(start)
        #expect(took >= 0.9 && took < 4)
        #expect(s.state == .stopped && s.restarts == 0)
    }

    @Test func quickExitsInARowAreACrashLoop() throws {
        let (c, dir) = try container(["/bin/sh", "-c", "exit 1"], name: "looping")
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + "/log")
        try s.start()
        // Exits at 0, +0.5, +1, +2 s: the fourth quick exit in a row flags it.
        let deadline = Date().addingTimeInterval(20)
        while !s.status.crashLooping && Date() < deadline { usleep(50_000) }
        let status = s.status
        s.stop(grace: 1)
        #expect(status.crashLooping && status.quickExits >= 4 && status.lastExit == 1)
        #expect(status.state == .backingOff)
    }
}

import Testing
import Foundation
@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Real runc on a busybox root: cgroup limits, what a container can't see,
/// STOPSIGNAL, and what a dead supervisor leaves behind.
@Suite(.serialized) struct ContainerIsolationTests {
    func make(_ args: [String], name: String, limits: ResourceLimits? = nil, stopSignal: ContainerSignal = .term,
              containersDir: String? = nil) throws -> (Container, String) {
        let lower = try busyboxRootfs()
        for tool in ["httpd", "sleep", "dd", "wget", "ps", "wc", "nc", "cat"] {
            try? FileManager.default.createSymbolicLink(atPath: lower + "/bin/\(tool)", withDestinationPath: "busybox")
        }
        try FileManager.default.createDirectory(atPath: lower + "/www", withIntermediateDirectories: true)
        try "from \(name)\n".write(toFile: lower + "/www/index.html", atomically: true, encoding: .utf8)
        let id = "berth-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let dir = containersDir.map { $0 + "/" + id } ?? lower + "-c-" + name
        let c = try Container(id: id, dir: dir, layers: [lower],
                              process: .init(args: args, env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0, stopSignal: stopSignal),
                              hostname: name, network: .isolated, limits: limits, runc: Runc(stateRoot: (containersDir ?? lower) + "-runc"))
        return (c, dir)
    }

    func runToEnd(_ c: Container) throws -> (Int32, [String]) {
        let lines = Lines()
        let status = try c.runc.run(bundle: c.dir + "/bundle", id: c.id) { lines.add($0) }
        return (status, lines.all)
    }

    @Test func memoryLimitKillsAHog() throws {
        // 64 MiB read into one buffer: fine without a limit, OOM-killed under 16 MiB.
        let hog = ["/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null && echo survived"]
        let (free, _) = try make(hog, name: "nolimit", limits: ResourceLimits())
        defer { free.remove() }
        let (s1, out1) = try runToEnd(free)
        #expect(s1 == 0 && out1.contains("survived"))
        let (capped, _) = try make(hog, name: "hog", limits: ResourceLimits(memory: 16 << 20))
        defer { capped.remove() }
        let (s2, out2) = try runToEnd(capped)
        #expect(s2 != 0 && !out2.contains("survived"), "status \(s2), output \(out2)")
    }

    @Test func cpuAndPidsLimitsAreInTheContainersCgroup() throws {
        let (c, dir) = try make(["/bin/sleep", "30"], name: "limited", limits: ResourceLimits(cpus: 0.25, pids: 64))
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + ".log")
        try s.start()
        #expect(s.waitRunning(timeout: 5))
        let quota = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/berth/\(c.id)/cpu.cfs_quota_us", encoding: .utf8)
        let pids = try? String(contentsOfFile: "/sys/fs/cgroup/pids/berth/\(c.id)/pids.max", encoding: .utf8)
        let tasks = try? String(contentsOfFile: "/sys/fs/cgroup/pids/berth/\(c.id)/tasks", encoding: .utf8)
        s.stop(grace: 0.5)
        #expect(quota?.trimmingCharacters(in: .whitespacesAndNewlines) == "25000")
        #expect(pids?.trimmingCharacters(in: .whitespacesAndNewlines) == "64")
        #expect(!(tasks ?? "").isEmpty)  // the container's process is in it
    }

    @Test func containerSeesNeitherHostProcessesNorOtherContainersNorHostLoopback() throws {
        // The host: a listener on 127.0.0.1.
        let host = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(host) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(host, $0, len) } }
        listen(host, 8)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(host, $0, &len) } }
        let hostPort = Int(UInt16(bigEndian: addr.sin_port))
        // Another container serving on 8000 in its own namespace.
        let (a, adir) = try make(["/bin/httpd", "-f", "-p", "8000", "-h", "/www"], name: "neighbour")
        defer { a.remove() }
        let sa = SupervisedContainer(container: a, logPath: adir + ".log")
        try sa.start()
        defer { sa.stop(grace: 0.5) }
        #expect(sa.waitRunning(timeout: 5))
        // Reachable inside its own namespace, so the probes below can fail for the right reason only.
        var own = ""
        for _ in 0..<50 where own.isEmpty {
            own = sh("nsenter --net=\(sa.netnsPath!) busybox wget -q -O- http://127.0.0.1:8000/ 2>/dev/null").1
            if own.isEmpty { usleep(100_000) }
        }
        #expect(own == "from neighbour\n")
        let probe = """
            ps -o pid,comm | wc -l; \
            wget -q -T 2 -O- http://127.0.0.1:8000/ >/dev/null 2>&1 && echo saw-neighbour; \
            echo x | nc -w 2 127.0.0.1 \(hostPort) >/dev/null 2>&1 && echo saw-host; \
            echo done
            """
        let (b, _) = try make(["/bin/sh", "-c", probe], name: "prober")
        defer { b.remove() }
        let (status, out) = try runToEnd(b)
        #expect(status == 0)
        #expect(out.last == "done" && !out.contains("saw-neighbour") && !out.contains("saw-host"), "\(out)")
        // ps header + sh + ps (+ wc): the host's hundreds of processes are not there.
        #expect((Int(out.first ?? "") ?? 99) <= 4, "\(out)")
    }

    @Test func stopSendsTheImagesStopSignal() throws {
        let (c, dir) = try make(["/bin/sh", "-c", "trap 'echo got QUIT; exit 0' QUIT; echo ready; while true; do sleep 0.1; done"],
                                name: "quitter", stopSignal: .quit)
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + ".log")
        try s.start()
        #expect(s.waitRunning(timeout: 5))
        usleep(300_000)  // let the shell install its trap
        let start = Date()
        s.stop(grace: 10)
        #expect(Date().timeIntervalSince(start) < 5)  // it exited on QUIT, no SIGKILL after 10 s
        let log = (try? String(contentsOfFile: dir + ".log", encoding: .utf8)) ?? ""
        #expect(log.contains("got QUIT"))
    }

    @Test func aDeadRuncsContainerIsReapedAndRestarted() throws {
        #expect(Leftovers.becomeSubreaper())
        let (c, dir) = try make(["/bin/sleep", "100"], name: "orphan")
        defer { c.remove() }
        let s = SupervisedContainer(container: c, logPath: dir + ".log")
        try s.start()
        defer { s.stop(grace: 0.5) }
        #expect(s.waitRunning(timeout: 5))
        let first = try #require(s.pid)
        // Kill runc itself; the container's init is reparented to this process.
        let (_, runcPids) = sh("pgrep -f 'runc --root \(c.runc.stateRoot) run'")
        for p in runcPids.split(separator: "\n") { kill(Int32(p)!, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while (s.restarts < 1 || s.pid == nil || s.pid == first) && Date() < deadline { usleep(20_000) }
        #expect(s.restarts == 1 && s.pid != nil && s.pid != first)
        #expect(access("/proc/\(first)", F_OK) != 0)  // killed and reaped, not a zombie
    }

    @Test func leftoversOfADeadServeAreRemoved() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("berth-left-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state + "/containers", withIntermediateDirectories: true)
        let (c, _) = try make(["/bin/sleep", "100"], name: "left", containersDir: state + "/containers")
        // Started the way a serve starts it, then abandoned (its supervisor is gone).
        let (runc, bundle, id) = (c.runc, c.dir + "/bundle", c.id)
        let runner = Thread { _ = try? runc.run(bundle: bundle, id: id) { _ in } }
        try runner.start()
        let deadline = Date().addingTimeInterval(5)
        while !c.runc.list().contains(c.id) && Date() < deadline { usleep(20_000) }
        #expect(c.runc.list().contains(c.id))
        #expect(Leftovers.isMountPoint(c.dir + "/rootfs"))
        // A stray file (an older layout's log) is not a container.
        FileManager.default.createFile(atPath: state + "/containers/berth-old-1.log", contents: Data("x\n".utf8))
        let cleaned = Leftovers(runc: c.runc, containersDir: (c.dir as NSString).deletingLastPathComponent, prefix: "berth-").clean()
        #expect(cleaned == [c.id])
        #expect(!c.runc.list().contains(c.id))
        #expect(!Leftovers.isMountPoint(c.dir + "/rootfs"))
        #expect(!FileManager.default.fileExists(atPath: c.dir))
    }
}

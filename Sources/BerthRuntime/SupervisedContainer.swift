import BerthThreads
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps one container running: `runc run` as a child, its output to a log
/// file (one timestamped line per line, rotated at `maxLogBytes`), restarted
/// with exponential backoff when it exits, stopped with SIGTERM then SIGKILL.
/// The container's writable layer survives restarts, as with Docker.
public final class SupervisedContainer: @unchecked Sendable {
    public enum State: String, Sendable, Codable {
        case starting, running, backingOff = "restarting", stopped
    }

    /// What the supervisor knows, read as one value.
    public struct Status: Sendable, Codable, Equatable {
        public var state: State = .starting
        public var restarts = 0
        /// The container's init process, while it runs.
        public var pid: Int32?
        /// When the current run began (for uptime).
        public var since: Date?
        /// The exit status of the last run that ended.
        public var lastExit: Int32?
        /// Quick exits in a row (each after less than `steadyAfter` seconds).
        public var quickExits = 0
        /// Four quick exits in a row: the container is crash-looping.
        public var crashLooping: Bool { quickExits >= 4 }

        public init() {}
    }

    /// The container it runs (its id, bundle and runtime).
    public let run: ContainerRun
    public let logPath: String
    public let maxLogBytes: Int
    /// A run longer than this resets the backoff and the crash-loop count.
    public static let steadyAfter = 10.0
    /// Told (on the supervisor's thread) when the container starts running or exits.
    private let onChange: (@Sendable (SupervisedContainer) -> Void)?
    private let onLog: (@Sendable (String) -> Void)?
    private let lock = Mutex<(status: Status, stopping: Bool)>((Status(), false))
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    /// The supervisor thread, once started.
    private var thread: pthread_t?

    public convenience init(container: Container, logPath: String, maxLogBytes: Int = 10 << 20,
                            onChange: (@Sendable (SupervisedContainer) -> Void)? = nil) {
        self.init(run: container.run, logPath: logPath, maxLogBytes: maxLogBytes, onChange: onChange)
    }

    /// Each line it logs also goes to `onLog` (a keeper's followers).
    public init(run: ContainerRun, logPath: String, maxLogBytes: Int = 10 << 20,
                onChange: (@Sendable (SupervisedContainer) -> Void)? = nil,
                onLog: (@Sendable (String) -> Void)? = nil) {
        self.run = run
        self.onLog = onLog
        self.logPath = logPath
        self.maxLogBytes = maxLogBytes
        self.onChange = onChange
    }

    public var status: Status { lock.withLock { $0.status } }
    public var state: State { status.state }
    public var restarts: Int { status.restarts }
    /// The container's init process, while it runs.
    public var pid: Int32? { status.pid }
    /// Its network namespace handle (for the proxy's upstream sockets).
    public var netnsPath: String? { pid.map { "/proc/\($0)/ns/net" } }

    /// Starts supervising on a thread of its own; throws when the system
    /// refuses the thread (nothing runs then).
    public func start() throws(OSThread.StartError) {
        thread = try OSThread.start { self.superviseLoop() }
    }

    /// Waits until the container's init process is known (or `timeout` passes).
    public func waitRunning(timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if pid != nil { return true }
            usleep(20_000)
        }
        return pid != nil
    }

    /// The image's STOPSIGNAL (or `signal`), SIGKILL after `grace` seconds, then no restart.
    /// Only the first call stops it; later ones return at once.
    public func stop(signal: ContainerSignal? = nil, grace: Double) {
        let first = lock.withLock { l -> Bool in
            defer { l.stopping = true }
            return !l.stopping
        }
        guard first, let thread else { return }
        wake.signal()
        run.kill(signal ?? run.stopSignal)
        if exited.wait(timeout: .now() + grace) == .timedOut {
            run.kill(.kill)
            _ = exited.wait(timeout: .now() + 10)
        }
        OSThread.join(thread)
    }

    private func superviseLoop() {
        var backoff = 0.5
        while !lock.withLock({ $0.stopping }) {
            lock.withLock { $0.status.state = .starting }
            let started = Date()
            let code = runOnce()
            cleanUpAfterRun()
            let steady = Date().timeIntervalSince(started) > Self.steadyAfter
            // A container that ran a while starts over from a short delay.
            if steady { backoff = 0.5 }
            let stopping = lock.withLock { l in
                l.status.pid = nil
                l.status.since = nil
                l.status.lastExit = code
                if !l.stopping {
                    l.status.state = .backingOff
                    l.status.restarts += 1
                    l.status.quickExits = steady ? 0 : l.status.quickExits + 1
                }
                return l.stopping
            }
            if stopping { break }
            log("berth: container exited with status \(code); restarting in \(backoff)s")
            onChange?(self)
            _ = wake.wait(timeout: .now() + backoff)
            backoff = min(backoff * 2, 30)
        }
        lock.withLock { $0.status.state = .stopped }
        onChange?(self)
        exited.signal()
    }

    private func runOnce() -> Int32 {
        let pidFile = run.dir + "/init.pid"
        unlink(pidFile)
        do {
            return try run.runc.run(bundle: run.dir + "/bundle", id: run.id, pidFile: pidFile, started: { runc in
                DispatchQueue.global().async { [self] in
                    // runc writes the init pid once the container exists (a stat every 5 ms).
                    for _ in 0..<2000 {
                        if let pid = Self.readPID(pidFile) {
                            let live = lock.withLock { l in
                                guard !l.stopping else { return false }
                                l.status.pid = pid
                                l.status.since = Date()
                                l.status.state = .running
                                return true
                            }
                            if live { onChange?(self) }
                            return
                        }
                        if !runc.isRunning { return }
                        usleep(5_000)
                    }
                }
            }, output: { log($0) })
        } catch {
            log("berth: \(error)")
            return -1
        }
    }

    /// After `runc run` returns: when runc itself died (not the container),
    /// the container lives on, reparented to this process (the subreaper):
    /// kill it, reap it and make runc forget it so the next run can start.
    private func cleanUpAfterRun() {
        let initPID = pid
        run.runc.forceDelete(run.id)
        if let initPID, Self.parent(of: initPID) == getpid() {
            kill(initPID, SIGKILL)
            var st: Int32 = 0
            waitpid(initPID, &st, 0)
        }
    }

    /// The parent pid of `pid` from /proc/PID/stat, or nil when it is gone.
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The pid in runc's `--pid-file`, once it is there.
    static func readPID(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return nil }
        return pid
    }

    /// Appends `2026-11-29T17:00:00.123Z line` to the log, rotating it to `.1` past the size limit.
    func log(_ line: String) {
        var attrs = stat()
        if stat(logPath, &attrs) == 0 && Int(attrs.st_size) > maxLogBytes {
            rename(logPath, logPath + ".1")
        }
        let fd = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var text = Self.timestamp() + " " + line + "\n"
        onLog?(text)
        text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

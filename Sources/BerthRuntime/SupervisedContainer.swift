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
    public enum State: String, Sendable {
        case starting, running, backingOff = "restarting", stopped
    }

    public let container: Container
    public let logPath: String
    public let maxLogBytes: Int
    private let lock = Mutex<(state: State, restarts: Int, pid: Int32?, stopping: Bool)>((.starting, 0, nil, false))
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private var thread = pthread_t()

    public init(container: Container, logPath: String, maxLogBytes: Int = 10 << 20) {
        self.container = container
        self.logPath = logPath
        self.maxLogBytes = maxLogBytes
    }

    public var state: State { lock.withLock { $0.state } }
    public var restarts: Int { lock.withLock { $0.restarts } }
    /// The container's init process, while it runs.
    public var pid: Int32? { lock.withLock { $0.pid } }
    /// Its network namespace handle (for the proxy's upstream sockets).
    public var netnsPath: String? { pid.map { "/proc/\($0)/ns/net" } }

    public func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { arg in
            let me = Unmanaged<SupervisedContainer>.fromOpaque(arg!).takeRetainedValue()
            me.superviseLoop()
            return nil
        }, box)
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

    /// SIGTERM (or `signal`), SIGKILL after `grace` seconds, then no restart.
    public func stop(signal: String = "TERM", grace: Double) {
        lock.withLock { $0.stopping = true }
        wake.signal()
        container.kill(signal)
        if exited.wait(timeout: .now() + grace) == .timedOut {
            container.kill("KILL")
            _ = exited.wait(timeout: .now() + 10)
        }
        pthread_join(thread, nil)
    }

    private func superviseLoop() {
        var backoff = 0.5
        while !lock.withLock({ $0.stopping }) {
            lock.withLock { $0.state = .starting }
            let started = Date()
            let status = runOnce()
            lock.withLock { $0.pid = nil }
            if lock.withLock({ $0.stopping }) { break }
            // A container that ran a while starts over from a short delay.
            if Date().timeIntervalSince(started) > 10 { backoff = 0.5 }
            log("berth: container exited with status \(status); restarting in \(backoff)s")
            lock.withLock {
                $0.state = .backingOff
                $0.restarts += 1
            }
            _ = wake.wait(timeout: .now() + backoff)
            backoff = min(backoff * 2, 30)
        }
        lock.withLock { $0.state = .stopped }
        exited.signal()
    }

    private func runOnce() -> Int32 {
        do {
            return try container.runc.run(bundle: container.dir + "/bundle", id: container.id, started: { runc in
                DispatchQueue.global().async { [self] in
                    // The init pid appears in runc's state once the container runs.
                    for _ in 0..<250 {
                        if let pid = runcStatePID() {
                            lock.withLock {
                                $0.pid = pid
                                $0.state = .running
                            }
                            return
                        }
                        if !runc.isRunning { return }
                        usleep(20_000)
                    }
                }
            }, output: { log($0) })
        } catch {
            log("berth: \(error)")
            return -1
        }
    }

    private func runcStatePID() -> Int32? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [container.runc.binary, "--root", container.runc.stateRoot, "state", container.id]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              json["status"] as? String == "running", let pid = json["pid"] as? Int, pid > 0 else { return nil }
        return Int32(pid)
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
        text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

import BerthThreads
import CBerthSystem
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// serve's side of one keeper: starts it (or finds one an earlier serve
/// started), follows its status over its socket, and asks it to stop. When
/// the keeper's socket closes without a stop having been asked for, the
/// keeper died: `onLost` hears of it.
public final class KeeperClient: @unchecked Sendable {
    public let spec: KeeperSpec
    private let onChange: @Sendable () -> Void
    private let onLost: @Sendable () -> Void
    private let lock = Mutex<(status: KeeperStatus?, stopping: Bool, watch: UnixSocket?)>((nil, false, nil))
    private let ended = DispatchSemaphore(value: 0)

    private init(spec: KeeperSpec, onChange: @escaping @Sendable () -> Void, onLost: @escaping @Sendable () -> Void) {
        self.spec = spec
        self.onChange = onChange
        self.onLost = onLost
    }

    /// The last status the keeper sent (nil before the first).
    public var status: KeeperStatus? { lock.withLock { $0.status } }

    /// Starts `binary shim DIR` for `spec` (already written) as a process of
    /// its own and watches it; throws with the keeper's reason when it does
    /// not come up within `timeout`.
    public static func launch(_ spec: KeeperSpec, binary: String, timeout: Double = 10,
                              onChange: @escaping @Sendable () -> Void,
                              onLost: @escaping @Sendable () -> Void) throws(RuntimeError) -> KeeperClient {
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { throw RuntimeError("pipe: \(String(cString: strerror(errno)))") }
        for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let args = [binary, "shim", spec.dir]
        let spawned = DetachedProcess.spawn(binary, args, stdin: devnull, stdout: devnull, stderr: devnull, pass: p[1])
        close(devnull)
        close(p[1])
        defer { close(p[0]) }
        guard spawned else { throw RuntimeError("cannot start the keeper \(binary): \(String(cString: strerror(errno)))") }
        let answer = readLine(p[0], timeout: timeout)
        guard answer == "ready" else {
            throw RuntimeError("keeper of \(spec.id) did not start: " + (answer.map { $0.hasPrefix("error ") ? String($0.dropFirst(6)) : $0 } ?? "no answer within \(timeout)s (is \(binary) berth?)"))
        }
        let c = KeeperClient(spec: spec, onChange: onChange, onLost: onLost)
        try c.watch()
        return c
    }

    /// Watches the keeper an earlier serve started for `spec`; throws when
    /// nobody answers on its socket.
    public static func attach(_ spec: KeeperSpec, onChange: @escaping @Sendable () -> Void,
                              onLost: @escaping @Sendable () -> Void) throws(RuntimeError) -> KeeperClient {
        let c = KeeperClient(spec: spec, onChange: onChange, onLost: onLost)
        try c.watch()
        return c
    }

    /// One `status` answer from the keeper at `socket`, or nil when none answers.
    public static func query(_ socket: String, timeout: Double = 2) -> KeeperStatus? {
        guard let s = try? UnixSocket.connect(socket) else { return nil }
        s.setReadTimeout(timeout)
        guard s.send("status\n"), let line = s.readLine() else { return nil }
        return KeeperStatus(line: line)
    }

    private func watch() throws(RuntimeError) {
        let s = try UnixSocket.connect(spec.socket)
        s.setReadTimeout(5)
        guard s.send("watch\n"), let first = s.readLine(), let status = KeeperStatus(line: first) else {
            throw RuntimeError("keeper of \(spec.id) did not answer on \(spec.socket)")
        }
        s.setReadTimeout(0)
        lock.withLock {
            $0.status = status
            $0.watch = s
        }
        do {
            try OSThread.detach { [self] in follow(s) }
        } catch {
            s.close()
            throw RuntimeError("cannot watch the keeper: \(error)")
        }
        onChange()
    }

    private func follow(_ s: UnixSocket) {
        while let line = s.readLine() {
            guard let status = KeeperStatus(line: line) else { continue }
            lock.withLock { $0.status = status }
            onChange()
        }
        let lost = lock.withLock { l -> Bool in
            l.watch = nil
            return !l.stopping
        }
        s.close()
        ended.signal()
        if lost { onLost() }
    }

    /// Asks the keeper to stop its container (`signal`, SIGKILL after
    /// `grace`) and waits until it has exited. False when it could not be asked.
    @discardableResult
    public func stop(signal: ContainerSignal? = nil, grace: Double) -> Bool {
        let watching = lock.withLock { l -> Bool in
            l.stopping = true
            return l.watch != nil
        }
        guard let s = try? UnixSocket.connect(spec.socket) else { return false }
        s.setReadTimeout(grace + 20)
        let asked = s.send("stop \(signal?.runcName ?? "-") \(grace)\n")
        let answer = asked ? s.readLine() : nil
        // The keeper exits right after answering: its watch connection ends too.
        if watching { _ = ended.wait(timeout: .now() + 5) }
        return answer == "stopped"
    }

    /// Stops watching without stopping the keeper (serve handing over, or
    /// exiting with its apps left running).
    public func detach() {
        let s = lock.withLock { l -> UnixSocket? in
            l.stopping = true
            return l.watch
        }
        s?.shutdown()
    }

    /// Reads one line from `fd` within `timeout` (nil at EOF or on timeout).
    static func readLine(_ fd: Int32, timeout: Double) -> String? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var text = [UInt8]()
        let end = Date().addingTimeInterval(timeout)
        while true {
            let left = Int32(max(0, end.timeIntervalSinceNow) * 1000)
            let r = poll(&pfd, 1, left)
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            var b = [UInt8](repeating: 0, count: 512)
            let n = b.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return text.isEmpty ? nil : String(decoding: text, as: UTF8.self) }
            text += b[..<n]
            if let nl = text.firstIndex(of: 0x0A) { return String(decoding: text[..<nl], as: UTF8.self) }
        }
    }
}

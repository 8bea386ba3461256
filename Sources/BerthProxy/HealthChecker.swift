#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthThreads
import Dispatch
import Synchronization

/// Active checks of one upstream server: every `interval`, `METHOD path` with
/// a `timeout`; a 2xx or 3xx status is a success. Runs on a thread of its own
/// with blocking calls bounded by the timeout, so it never touches a worker loop.
final class HealthChecker: Sendable {
    let server: UpstreamServer
    let check: HealthCheck
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    init(server: UpstreamServer, check: HealthCheck) {
        self.server = server
        self.check = check
    }

    func start() throws(OSThread.StartError) {
        try OSThread.detach { self.loop() }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
    }

    private func loop() {
        while !stopped.load(ordering: .relaxed) {
            let (ok, reason) = probe()
            if stopped.load(ordering: .relaxed) { return }
            server.health.activeResult(ok: ok, reason: reason, rise: check.rise, fall: check.fall)
            _ = wake.wait(timeout: .now() + check.interval)
        }
    }

    /// One check: connect, send the request, read the status line.
    func probe() -> (Bool, String) {
        Self.probe(server.address, in: server.netns, hostHeader: server.authority, check: check)
    }

    /// `check` against `address` (opened inside `netns` when given).
    static func probe(_ address: SocketAddress, in netns: NetworkNamespace?, hostHeader: String, check: HealthCheck) -> (Bool, String) {
        let deadline = WallClock.seconds + check.timeout
        guard let (fd, inProgress) = Socket.connect(address, in: netns) else { return (false, "connect failed") }
        defer { Socket.close(fd) }
        if inProgress {
            guard wait(fd, events: Int16(POLLOUT), until: deadline) else { return (false, "connect timeout") }
            let err = Socket.pendingError(fd)
            if err != 0 { return (false, "connect: \(String(cString: strerror(err)))") }
        }
        let request = Array("\(check.method) \(check.path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return (false, "send failed") }
        var head = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1024)
        while head.count < 12 || !head.contains(0x0A) {
            guard wait(fd, events: Int16(POLLIN), until: deadline) else { return (false, "timeout") }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EAGAIN { continue }
            if n <= 0 { return (false, "closed before a status line") }
            head += chunk[0..<n]
        }
        // "HTTP/1.x NNN"
        guard head.starts(with: Array("HTTP/1.".utf8)), let code = Int(String(decoding: head[9..<12], as: UTF8.self)) else {
            return (false, "not an HTTP response")
        }
        return (code >= 200 && code < 400, "\(check.method) \(check.path) → \(code)")
    }

    private static func wait(_ fd: Int32, events: Int16, until deadline: Double) -> Bool {
        while true {
            let left = deadline - WallClock.seconds
            if left <= 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(left * 1000) + 1)
            if rc > 0 { return true }
            if rc == 0 { return false }
            if errno != EINTR { return false }
        }
    }
}

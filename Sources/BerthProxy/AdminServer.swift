#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthThreads
import BerthHTTP
import Synchronization

/// The `admin` listener: `/metrics` (Prometheus text) and `/healthz`, one
/// request per connection, on a thread of its own so scrapes never touch the
/// workers' loops except through their mailboxes.
final class AdminServer: @unchecked Sendable {
    private let fd: Int32
    /// Written to wake the accept loop for `stop` (the listening socket may be
    /// shared with a serve it was handed to, so it is never shut down).
    private var wake: [Int32] = [-1, -1]
    private unowned let server: ProxyServer
    private let stopped = Atomic<Bool>(false)
    private var thread: pthread_t?
    let port: Int

    /// The listener on `address`, or on `inheritedFD` (handed over by the previous serve).
    init(address: HostPort, server: ProxyServer, inheritedFD: Int32? = nil) throws {
        if let inheritedFD {
            fd = inheritedFD
        } else {
            do throws(SocketError) {
                fd = try Socket.listen(try SocketAddress(address, passive: true), reusePort: false, backlog: 64)
            } catch {
                throw ProxyError("admin \(address): \(error.description)")
            }
        }
        guard pipe(&wake) == 0 else {
            Glibc.close(fd)
            throw ProxyError("admin \(address): pipe: \(String(cString: strerror(errno)))")
        }
        for w in wake { _ = fcntl(w, F_SETFD, FD_CLOEXEC) }
        // Non-blocking, after poll: a serve it is shared with (during a
        // handover) may take the connection first. Accepted ones block.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        port = Socket.localPort(fd)
        self.server = server
    }

    func start() throws(OSThread.StartError) {
        thread = try OSThread.start({ self.serve() })
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        var one: UInt8 = 1
        _ = write(wake[1], &one, 1)
        if let thread { OSThread.join(thread) }
        Glibc.close(fd)
        for w in wake { Glibc.close(w) }
    }

    /// The listening socket (to hand over).
    var socket: Int32 { fd }

    private func serve() {
        while !stopped.load(ordering: .relaxed) {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            let c = Glibc.accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EAGAIN { continue }
                return
            }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            answer(c)
            Glibc.close(c)
        }
    }

    private func answer(_ c: Int32) {
        let buf = ByteBuffer(capacity: 8192)
        var parser = RequestHeadParser(maxHeadSize: 8192)
        var result = HeadParseResult.needMore
        while result == .needMore {
            guard case .bytes(let n) = Socket.read(c, into: buf), n > 0 else { return }
            result = buf.withReadableBytes { parser.parse($0) }
        }
        guard case .complete = result else {
            reply(c, 400, "bad request\n")
            return
        }
        let head = parser.head
        let path = buf.withReadableBytes { String(decoding: $0[head.path.start..<head.path.end], as: UTF8.self) }
        switch (head.method, path) {
        case (.get, "/metrics"), (.head, "/metrics"):
            let text = MetricsText.render(server.snapshot(), server.published.withLock { $0 })
            reply(c, 200, text, type: "text/plain; version=0.0.4; charset=utf-8", headOnly: head.method == .head)
        case (.get, "/healthz"), (.head, "/healthz"):
            reply(c, 200, "ok\n", headOnly: head.method == .head)
        default:
            reply(c, 404, "not found: try /metrics or /healthz\n")
        }
    }

    private func reply(_ c: Int32, _ status: Int, _ body: String, type: String = "text/plain; charset=utf-8", headOnly: Bool = false) {
        let out = ByteBuffer(capacity: body.utf8.count + 256)
        out.append("HTTP/1.1 ")
        out.appendDecimal(status)
        out.append(byte: 0x20)
        out.append(HTTPStatus.reason(status))
        out.append("\r\nContent-Type: ")
        out.appendString(type)
        out.append("\r\nContent-Length: ")
        out.appendDecimal(body.utf8.count)
        out.append("\r\nConnection: close\r\n\r\n")
        if !headOnly { out.appendString(body) }
        while !out.isEmpty {
            guard case .wrote = Socket.write(c, from: out) else { return }
        }
    }
}

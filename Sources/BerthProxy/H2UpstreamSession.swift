#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP
import CNGHTTP2

/// One HTTP/2 connection (prior knowledge, cleartext) from a worker to an
/// h2c upstream server, shared by every exchange of that worker's pool for
/// the server: each exchange is one stream (`H2UpstreamStream`), which its
/// `ClientConnection` sees as an HTTP/1.1 upstream connection. A GOAWAY or
/// exhausted stream ids retire the session: its streams finish, new
/// exchanges get a new session.
final class H2UpstreamSession: IOEventHandler, LoopPumped {
    /// Strong, and a `let`, as `ClientConnection.worker` is (and for the same reason).
    let worker: Worker
    /// Strong both ways while open: the pool lets go of a session when it closes.
    let pool: UpstreamPool
    private var transport: SocketTransport!
    private var session: H2ClientSession!
    private let inBuf: ByteBuffer
    private let outBuf: ByteBuffer
    private var streams = StreamTable<H2UpstreamStream>()
    /// Streams whose exchange has an event to take (delivered outside nghttp2's calls).
    private var ready = BatchQueue<H2UpstreamStream>()

    private enum State { case connecting, open, closed }
    private var state = State.connecting
    /// No new streams (GOAWAY received or sent, ids used up).
    private(set) var retired = false
    private var pumping = false
    var dirty = false
    /// When the last stream ended (idle sessions are closed by the pool's sweep).
    private(set) var idleSince = 0.0
    var isIdle: Bool { streams.isEmpty }

    init?(pool: UpstreamPool, worker: Worker) {
        self.worker = worker
        self.pool = pool
        inBuf = ByteBuffer(pool: worker.buffers)
        outBuf = ByteBuffer(pool: worker.buffers)
        guard let s = H2ClientSession(owner: self),
              let (fd, inProgress) = Socket.connect(pool.server.address, in: pool.server.netns) else { return nil }
        session = s
        transport = SocketTransport(fd: fd, loop: worker.loop, handler: self)
        idleSince = worker.now
        if !inProgress { state = .open }
        transport.set(read: !inProgress, write: true)
    }

    var usable: Bool { !retired && state != .closed }

    /// A stream for one exchange (opened on the wire once its request head is written).
    func makeStream() -> H2UpstreamStream {
        H2UpstreamStream(session: self)
    }

    // MARK: - what streams ask (outside nghttp2's calls)

    func submit(_ s: H2UpstreamStream, _ fields: [(name: [UInt8], value: [UInt8])], body: Bool) -> Bool {
        guard state != .closed, let id = session.request(fields, body: body) else {
            retire()
            return false
        }
        s.opened(id)
        streams.insert(s, for: id)
        worker.h2NeedsPump(self)
        return true
    }

    func resume(_ s: H2UpstreamStream) {
        session.resume(stream: s.id)
        worker.h2NeedsPump(self)
    }

    func consume(_ s: H2UpstreamStream, _ n: Int) {
        session.consume(stream: s.id, n)
        worker.h2NeedsPump(self)
    }

    /// The exchange let go of a stream before it ended: RST_STREAM(CANCEL).
    func cancel(_ s: H2UpstreamStream) {
        guard streams.remove(s.id) != nil else { return }
        session.cancel(stream: s.id)
        session.consumeConnection(s.closedBySession())
        streamGone()
        worker.h2NeedsPump(self)
    }

    /// DATA no stream will read: credited to the connection's window at once.
    func discarded(_ n: Int) { session.consumeConnection(n) }

    func schedule(_ s: H2UpstreamStream) {
        guard !s.queued else { return }
        s.queued = true
        ready.append(s)
        worker.h2NeedsPump(self)
    }

    // MARK: - wire

    func ioReady(readable: Bool, writable: Bool) {
        if state == .connecting {
            let err = transport.pendingError()
            if err != 0 {
                worker.logger.debug("h2c upstream connect failed", metadata: ["upstream": "\(pool.server.name)", "errno": "\(err)"])
                close()
                return
            }
            state = .open
        }
        if readable { readSocket() }
        pump()
    }

    private func readSocket() {
        while state == .open {
            switch transport.read(into: inBuf) {
            case .bytes(let n):
                if n == 0 { return }
                let ok = inBuf.withReadableBytes { session.receive($0) }
                inBuf.clear()
                if !ok {
                    close()
                    return
                }
            case .wouldBlock:
                return
            case .eof, .failed:
                close()
                return
            }
        }
    }

    /// Delivers the streams' events, then sends what the session has.
    func pump() {
        if pumping { return }
        pumping = true
        defer { pumping = false }
        var rounds = 0
        repeat {
            rounds += 1
            while !ready.isEmpty {
                var batch = ready.take()
                for s in batch { s.deliver() }
                ready.recycle(&batch)
            }
            guard state == .open else { break }
            guard session.send(into: outBuf, limit: 64 * 1024) else {
                close()
                return
            }
            flush()
            // The session may hold more than one send's limit: on while the socket takes it all.
        } while (!ready.isEmpty || (outBuf.isEmpty && session.wantsWrite)) && rounds < 64
        guard state != .closed else { return }
        if state == .connecting {
            transport.set(read: false, write: true)
            return
        }
        if retired && streams.isEmpty && outBuf.isEmpty {
            close()
            return
        }
        transport.set(read: true, write: !outBuf.isEmpty || session.wantsWrite)
    }

    private func flush() {
        while !outBuf.isEmpty {
            switch transport.write(from: outBuf) {
            case .wrote:
                continue
            case .wouldBlock:
                return
            case .failed:
                close()
                return
            }
        }
        outBuf.clear()
        outBuf.release()
    }

    /// No new streams: the pool opens another session for the next exchange.
    func retire() {
        guard !retired else { return }
        retired = true
        pool.sessionRetired(self)
    }

    /// Closes the connection; open streams fail (their exchanges answer 502 or close).
    func close() {
        guard state != .closed else { return }
        state = .closed
        retire()
        let open = streams.values
        streams.removeAll()
        for s in open { _ = s.closedBySession() }  // nothing to credit on a closed connection
        transport.close()
        inBuf.release()
        outBuf.release()
        pool.sessionClosed(self)
        worker.retire(self)
    }

    /// Idle since `cutoff` or before: closed (the pool's sweep).
    func closeIfIdle(before cutoff: Double) {
        if streams.isEmpty && idleSince < cutoff { close() }
    }

    private func streamGone() {
        if streams.isEmpty { idleSince = worker.now }
    }

    // MARK: - session events (inside nghttp2's calls: no re-entry into it)

    func upstreamHeader(stream id: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        streams[id]?.header(name: name, value: value)
    }

    func upstreamHeadersDone(stream id: Int32, endStream: Bool) {
        streams[id]?.headersDone(endStream: endStream)
    }

    func upstreamData(stream id: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let s = streams[id] else {
            session.consumeConnection(bytes.count)
            return
        }
        s.data(bytes)
    }

    func upstreamEnded(stream id: Int32) { streams[id]?.ended() }

    func upstreamStreamClosed(stream id: Int32, error: UInt32) {
        guard let s = streams.remove(id) else { return }
        session.consumeConnection(s.closedBySession())
        streamGone()
    }

    func upstreamGoAway() { retire() }

    func upstreamRequestBody(stream id: Int32, into buf: UnsafeMutableRawBufferPointer, eof: inout Bool) -> Int? {
        guard let s = streams[id] else {
            eof = true
            return 0
        }
        return s.requestBody(into: buf, eof: &eof)
    }

    func upstreamRequestTrailers(stream id: Int32) -> [(name: [UInt8], value: [UInt8])] {
        streams[id]?.requestTrailers ?? []
    }
}

#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP
import CNGHTTP2

/// One HTTP/2 client connection (ALPN h2 on a TLS listener, or prior
/// knowledge on an `h2c` listener) on a worker's loop: an nghttp2 session
/// fed from the socket, and one `H2Stream` per request. Each stream is
/// served by an ordinary `ClientConnection` over an in-memory transport, so
/// routing, rewriting, balancing, holds, retries and the access log are the
/// HTTP/1.1 ones, to the same pooled HTTP/1.1 upstream connections.
final class H2Connection: IOEventHandler, RegistryMember, LoopPumped {
    /// Strong, and a `let`, as `ClientConnection.worker` is (and for the same reason).
    let worker: Worker
    let peer: [UInt8]
    let tls: TLSSession?
    private var transport: SocketTransport!
    /// A `let` (its delegate is attached once `self` exists): calls on it
    /// need no retain and release, which an implicitly unwrapped `var` costs.
    private let session: H2Session
    private let inBuf: ByteBuffer
    private let outBuf: ByteBuffer
    private var streams = StreamTable<H2Stream>()
    /// Streams whose inner connection has an event to take (run outside nghttp2's calls).
    private var ready = BatchQueue<H2Stream>()
    var deadline = 0.0
    var registryIndex = -1
    private(set) var closed = false
    private var goingAway = false
    private var pumping = false
    /// In the worker's list of connections to pump before the loop blocks.
    var dirty = false

    /// Takes over `fd` (and its TLS session); `initial` are bytes already read from it.
    init?(fd: Int32, peer: [UInt8], tls: TLSSession?, worker: Worker, initial: UnsafeRawBufferPointer) {
        self.worker = worker
        self.peer = peer
        self.tls = tls
        inBuf = ByteBuffer(pool: worker.buffers)
        outBuf = ByteBuffer(pool: worker.buffers)
        let s = worker.settings
        guard let session = H2Session(limits: .init(maxHeaderListSize: UInt32(s.maxHeadSize))) else { return nil }
        self.session = session
        transport = SocketTransport(fd: fd, loop: worker.loop, handler: self)
        session.attach(delegate: self)
        // The preface and the first request's HEADERS come within the header timeout.
        deadline = worker.now + s.headerTimeout
        if initial.count > 0, !session.receive(initial) { goingAway = true }
    }

    func start() {
        // Over TLS, the client's first bytes may already sit decrypted inside OpenSSL.
        if tls != nil { readSocket() }
        if !closed { pump() }
    }

    // MARK: - wire

    func ioReady(readable: Bool, writable: Bool) {
        if lingering {
            discardUntilEOF()
            return
        }
        if readable { readSocket() }
        if !closed { pump() }
    }

    /// Done (GOAWAY sent, no stream left): FIN (and close_notify), then read
    /// and drop what the client still sends until it closes or the linger
    /// timeout, so a close never turns into a reset that could drop the last
    /// response from the client's receive buffer.
    private var lingering = false

    private func finish() {
        guard !lingering else { return }
        lingering = true
        deadline = worker.now + worker.settings.lingerTimeout
        tls?.shutdown()
        transport.shutdownWrite()
        transport.set(read: true, write: false)
        discardUntilEOF()
    }

    private func discardUntilEOF() {
        while !closed {
            switch tls?.read(into: inBuf) ?? transport.read(into: inBuf) {
            case .bytes(let n):
                inBuf.clear()
                if n == 0 { return }
            case .wouldBlock:
                return
            case .eof, .failed:
                close()
                return
            }
        }
    }

    private func readSocket() {
        while !closed {
            let r = tls?.read(into: inBuf) ?? transport.read(into: inBuf)
            switch r {
            case .bytes(let n):
                if n == 0 { return }
                if sawRequest { deadline = worker.now + worker.settings.idleTimeout }
                let ok = inBuf.withReadableBytes { session.receive($0) }
                inBuf.clear()
                if !ok {
                    goingAway = true
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

    /// Runs the streams' pending events, then sends what the session has.
    /// Re-entrant calls (a stream's event producing output) fold into the running one.
    func pump() {
        guard !closed, !lingering else { return }
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
            guard session.send(into: outBuf, limit: 64 * 1024) else {
                close()
                return
            }
            flush()
            if closed { return }
            // The session may hold more than one send's limit: on while the socket takes it all.
        } while (!ready.isEmpty || (outBuf.isEmpty && session.wantsWrite)) && rounds < 64
        // nghttp2 stops wanting to read after a GOAWAY once no stream is left.
        let wantRead = session.wantsRead
        let wantWrite = !outBuf.isEmpty || session.wantsWrite
        if !wantRead && !wantWrite {
            finish()
            return
        }
        transport.set(read: wantRead || (tls.map { !$0.established } ?? false), write: wantWrite || (tls?.wantsWrite ?? false))
    }

    private func flush() {
        while !outBuf.isEmpty {
            switch tls?.write(from: outBuf) ?? transport.write(from: outBuf) {
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

    /// A stream's inner connection has something to do (run soon, on this loop).
    func schedule(_ s: H2Stream) {
        guard !closed, !s.queued else { return }
        s.queued = true
        ready.append(s)
        worker.h2NeedsPump(self)
    }

    // MARK: - lifecycle

    /// SIGTERM or `berth upgrade`: GOAWAY, the open streams finish.
    func drainRequested() {
        guard !goingAway else { return }
        goingAway = true
        session.goAway()
        pump()
    }

    func deadlinePassed() {
        if lingering { return close() }
        // Idle with no stream (or a preface that never completed): GOAWAY, then close.
        if streams.isEmpty {
            session.goAway()
            goingAway = true
            if !pumping { pump() }
            if !lingering { finish() }
        } else {
            deadline = worker.now + worker.settings.idleTimeout
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        let open = streams.values
        streams.removeAll()
        lastStream = nil
        for s in open { s.connectionClosed() }
        if let tls, !lingering { tls.shutdown() }
        transport.close()
        inBuf.release()
        outBuf.release()
        worker.forget(self)
    }

    // MARK: - session events (inside nghttp2's calls: no re-entry into it)

    /// The stream of the last lookup: a head's fields, its end and its DATA
    /// come one callback each for the same stream (no hash per callback).
    /// Unretained: it is always in `streams`, and cleared before it leaves.
    private var lastStream: Unmanaged<H2Stream>?

    /// Calls `body` with stream `id` (nil if there is none): no hash when it
    /// is the last one looked up, and no retain and release either way.
    @inline(__always)
    private func withStream<R>(_ id: Int32, _ body: (H2Stream) -> R) -> R? {
        if let last = lastStream, last._withUnsafeGuaranteedRef({ $0.id == id }) { return last._withUnsafeGuaranteedRef(body) }
        guard let s = streams[id] else { return nil }
        lastStream = Unmanaged.passUnretained(s)
        return body(s)
    }

    /// The pseudo-header values of the header block being read, end to end
    /// (one stream's block at a time: HTTP/2 never interleaves them).
    let pseudo = ByteBuffer(capacity: 256)

    func h2BeginRequest(stream id: Int32) {
        pseudo.clear()
        let s = worker.makeStream(id: id, connection: self)
        streams.insert(s, for: id)
        lastStream = Unmanaged.passUnretained(s)
    }

    func h2Header(stream id: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        withStream(id) { $0.header(name: name, value: value) } ?? true
    }

    /// A request's HEADERS came: from now on the idle timeout applies.
    private var sawRequest = false

    func h2HeadersDone(stream id: Int32, endStream: Bool) {
        if !sawRequest {
            sawRequest = true
            deadline = worker.now + worker.settings.idleTimeout
        }
        withStream(id) { $0.headersDone(endStream: endStream) }
    }

    func h2Data(stream id: Int32, _ bytes: UnsafeRawBufferPointer) {
        if withStream(id, { $0.body(bytes) }) == nil { session.consume(stream: id, bytes.count) }
    }

    func h2RequestEnded(stream id: Int32) { withStream(id) { $0.requestEnded() } }

    func h2StreamReset(stream id: Int32) {
        withStream(id) { $0.resetByClient() }
        // Rapid reset: more than `resetsPerSecond` in a second ends the connection.
        let now = worker.now
        if now - resetWindowStart > 1 {
            resetWindowStart = now
            resets = 0
        }
        resets += 1
        if resets > Self.resetsPerSecond && !goingAway {
            goingAway = true
            worker.logger.warning("HTTP/2 rapid reset: closing the connection", metadata: ["client": "\(String(decoding: peer, as: UTF8.self))"])
            session.terminate(error: NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
        }
    }

    /// Stream resets a client may send in one second (CVE-2023-44487).
    static let resetsPerSecond = 1000
    private var resets = 0
    private var resetWindowStart = 0.0

    func h2StreamClosed(stream id: Int32, error: UInt32) {
        if let last = lastStream, last._withUnsafeGuaranteedRef({ $0.id == id }) { lastStream = nil }
        guard let s = streams.remove(id) else { return }
        s.closedBySession()
    }

    func h2ResponseBody(stream id: Int32, into buf: UnsafeMutableRawBufferPointer, eof: inout Bool) -> Int? {
        // A deferral (nil) is not a missing stream (`.some(nil)`, not `nil`).
        guard let taken = withStream(id, { $0.responseBody(into: buf, eof: &eof) }) else {
            eof = true
            return 0
        }
        return taken
    }

    func h2Trailers(stream id: Int32) -> [(name: [UInt8], value: [UInt8])] {
        withStream(id) { $0.responseTrailers } ?? []
    }

    // MARK: - what streams ask of the session (outside nghttp2's calls)

    /// An empty header list for a response head, with the memory of the
    /// last one (nghttp2 copies what it sends: one list serves every stream).
    func takeHeaderList() -> H2HeaderList {
        var list = H2HeaderList()
        swap(&list, &spareHeaders)
        return list
    }

    private var spareHeaders = H2HeaderList()

    /// `headers` starts with `:status`; its memory is kept for the next head.
    /// `headers` comes back empty (the spare list's memory, or none).
    func respond(_ s: H2Stream, headers: inout H2HeaderList, body: Bool) {
        if !session.respond(stream: s.id, headers: headers, body: body) { session.reset(stream: s.id) }
        headers.removeAll()
        swap(&headers, &spareHeaders)
        worker.h2NeedsPump(self)
    }

    func resume(_ s: H2Stream) {
        session.resume(stream: s.id)
        worker.h2NeedsPump(self)
    }

    func consume(_ s: H2Stream, _ n: Int) {
        session.consume(stream: s.id, n)
        worker.h2NeedsPump(self)
    }

    func reset(_ s: H2Stream) {
        session.reset(stream: s.id)
        worker.h2NeedsPump(self)
    }
}

import BerthHTTP

/// One client TCP connection and the exchange it is in. Requests are served
/// one at a time in arrival order (pipelined ones wait in `inBuf`), and every
/// buffer is bounded: a side whose destination buffer is full stops being read.
final class ClientConnection: IOEventHandler, RegistryMember {
    /// Where the connection is; each case carries what only it needs.
    enum Phase: Equatable {
        /// Waiting for or parsing a request head.
        case head(HeadWait)
        /// A container app's request waits for a server (its app is starting, or
        /// its only replica refused while restarting); the worker retries it.
        case held(HeldRequest)
        /// A request is with an upstream.
        case exchange
        /// Bytes flow both ways after a 101.
        case tunnel
        /// Flushing the last response; `lingering` once FIN is sent and the
        /// input is read and discarded until the client closes.
        case closing(lingering: Bool)
        case closed

        var isHead: Bool {
            if case .head = self { return true }
            return false
        }
    }

    /// What a connection reading heads is waiting for.
    enum HeadWait: Equatable {
        /// A new connection that has sent nothing (the header timeout; expiry is silent).
        case fresh
        /// Between keep-alive requests (the idle timeout; expiry is silent).
        case idle
        /// Some bytes of a head arrived (a timeout is a 408).
        case started
    }

    /// A request parked until its app has a server.
    struct HeldRequest: Equatable {
        /// When the request arrived (the hold ends `timeouts { start }` after).
        var since: Double
        var form: Form

        enum Form: Equatable {
            /// Parsed, not rewritten: its head (this long) is still in `inBuf`.
            case parsed(headLength: Int)
            /// Rewritten for an upstream whose connect failed: `upOut` holds it.
            case rewritten
        }
    }

    /// Strong, and a `let`: the compiler then reads through it with no
    /// retain and release around each use, which an `unowned(unsafe)`
    /// reference costs (callgrind: about 40 retains and releases per HTTP/2 request
    /// across these types). No cycle outlives a worker: it closes its
    /// connections when it stops, and they let go of it.
    let worker: Worker
    private(set) var peer: [UInt8]
    /// The client's wire: a socket, or (tests) memory.
    private(set) var transport: Transport!
    let inBuf: ByteBuffer
    let outBuf: ByteBuffer
    let upOut: ByteBuffer
    var parser: RequestHeadParser
    var responseParser = ResponseHeadParser()
    var requestDecoder = ChunkedDecoder()
    var responseDecoder = ChunkedDecoder()
    /// Where the connection is. Only the transitions below assign it.
    private(set) var phase: Phase = .head(.fresh)
    var ex = Exchange()
    var upstream: UpstreamConnection?
    /// The pipe a plain response body is spliced through, while it is.
    var splicePipe: SplicePipe?
    var upstreamPool: UpstreamPool?
    var deadline = 0.0
    /// A WebSocket tunnel's server-to-client frames, followed so a close
    /// frame of berth's can go in between two of them.
    var tunnelFrames: WebSocketFrameBoundary?
    /// A redeploy retiring this tunnel (its old version is going away).
    var tunnelRetirement = TunnelRetirement.none
    var registryIndex = -1
    var clientEOF = false
    /// Set for a connection that came in on a TLS listener.
    let tls: TLSSession?
    /// Came in on an `h2c` listener: an HTTP/2 preface switches it to HTTP/2.
    var acceptsH2c = false
    /// One stream of an HTTP/2 connection (over TLS or not), not a socket of its own.
    var h2Stream: H2Origin?
    /// That stream: a final response head goes to it parsed, not as HTTP/1.1
    /// bytes to parse again (unowned: the stream owns this connection while it serves it).
    unowned(unsafe) var h2HeadSink: H2Stream?
    /// X-Forwarded-Proto https: TLS here, or on the HTTP/2 connection this stream is on.
    var overTLS: Bool { tls != nil || h2Stream == .tls }

    /// `transport` makes the wire, given this connection to tell of readiness.
    init(peer: [UInt8], worker: Worker, tls: TLSSession? = nil, transport: (IOEventHandler) -> Transport) {
        self.tls = tls
        self.peer = peer
        self.worker = worker
        // Borrowed from the worker's pool while they hold bytes: an idle
        // connection holds none.
        inBuf = ByteBuffer(pool: worker.buffers)
        outBuf = ByteBuffer(pool: worker.buffers)
        upOut = ByteBuffer(pool: worker.buffers)
        parser = RequestHeadParser(maxHeadSize: worker.settings.maxHeadSize)
        self.transport = transport(self)
    }

    var now: Double { worker.now }

    // MARK: - another HTTP/2 stream

    /// A closed stream's inner connection that nothing else holds a part of
    /// (the worker also checks that nothing else references it).
    var recyclable: Bool {
        h2Stream != nil && phase == .closed && upstream == nil && upstreamPool == nil && splicePipe == nil
    }

    /// Back to what a new inner connection would be, minus the allocations:
    /// the last stream's transport (and so its stream) and exchange go, the
    /// buffers hold no memory, the parsers keep their arrays' capacity.
    func recycle() {
        transport = nil
        inBuf.clear()
        inBuf.release()
        outBuf.clear()
        outBuf.release()
        upOut.clear()
        upOut.release()
        // The parsers and decoders are reset where they are first used for
        // an exchange (as between keep-alive requests); a reload may have
        // changed the head limit.
        let maxHead = worker.settings.maxHeadSize
        if parser.maxHeadSize != maxHead { parser = RequestHeadParser(maxHeadSize: maxHead) }
        ex = Exchange()
        tunnelFrames = nil
        tunnelRetirement = .none
        deadline = 0
        clientEOF = false
        registryIndex = -1
        h2Stream = nil
        h2HeadSink = nil
        phase = .head(.fresh)
    }

    /// A recycled inner connection takes the next stream (as `init` with `transport`).
    func reuse(peer: [UInt8], transport: (IOEventHandler) -> Transport) {
        self.peer = peer
        self.transport = transport(self)
    }

    func start() {
        deadline = now + worker.settings.headerTimeout
        guard tls == nil, h2Stream == nil else {
            transport.set(read: true)
            return
        }
        // A client's first bytes usually come with its connection: read them
        // now, as HAProxy does, and wait on the loop only when they have not
        // (the read's `wouldBlock` sets the interest).
        readClient()
    }

    // MARK: - readiness

    func ioReady(readable: Bool, writable: Bool) {
        if let tls, !tls.established {
            continueHandshake(tls)
            return
        }
        if writable {
            if splicePipe != nil {
                pumpSplice()
            } else {
                flushClient()
                if phase == .closed { return }
                afterClientDrained()
            }
        }
        if readable && phase != .closed { readClient() }
    }

    /// Drives the TLS handshake (under the header timeout set at accept: a
    /// client that stalls mid-handshake is closed by it like a slow head).
    /// A parked handshake goes on (a certificate was installed or refused).
    func resumeHandshake() {
        guard let tls, !tls.established, phase != .closed else { return }
        continueHandshake(tls)
    }

    private func continueHandshake(_ tls: TLSSession) {
        switch tls.handshake() {
        case .done:
            if tls.negotiatedH2 {
                handOffToH2()
                return
            }
            transport.set(read: true, write: false)
            readClient()
        case .wantRead:
            transport.set(read: true, write: false)
        case .wantWrite:
            transport.set(read: false, write: true)
        case .waitingForCertificate:
            // Parked (no events) until a certificate is installed or refused;
            // the header timeout still closes it.
            transport.set(read: false, write: false)
            worker.park(self)
        case .failed:
            worker.logger.debug("TLS handshake failed", metadata: ["client": "\(String(decoding: peer, as: UTF8.self))"])
            close()
        }
    }

    private func readClient() {
        let transport = self.transport!
        let result = tls?.read(into: inBuf) ?? transport.read(into: inBuf)
        switch result {
        case .bytes(let n):
            if n == 0 { updateClientInterest(); return }
            ex.bytesIn += n
        case .eof:
            clientEOF = true
        case .wouldBlock:
            if !transport.wantsRead { updateClientInterest() }
            return
        case .failed:
            abort()
            return
        }
        switch phase {
        case .head:
            processHeads()
        case .exchange:
            if clientEOF && !ex.requestDone {
                abort()  // the client gave up mid-body
                return
            }
            deadline = now + worker.settings.upstreamTimeout
            pumpRequest()
        case .tunnel:
            if case .none = tunnelRetirement { deadline = now + worker.settings.idleTimeout }
            pumpTunnel()
        case .closing:
            inBuf.clear()
            if clientEOF { close() }
        case .held, .closed:
            return
        }
    }

    /// Called when the client's socket took bytes: resume whatever was waiting for room.
    private func afterClientDrained() {
        switch phase {
        case .head:
            if !inBuf.isEmpty { processHeads() }
        case .exchange:
            deadline = now + worker.settings.upstreamTimeout
            if upstream != nil { pumpResponse() }
        case .tunnel:
            pumpTunnel()
        case .closing:
            finishClosing()
        case .held, .closed:
            break
        }
    }

    /// Reads from the client only when there is room and reading is useful.
    func updateClientInterest() {
        guard phase != .closed else { return }
        var read = !clientEOF
        switch phase {
        case .head:
            read = read && outBuf.readableBytes < outBuf.capacity
        case .exchange:
            // A client that sent its last request sends nothing more but its
            // FIN: not watched while the answer comes (no poll registration
            // for a one-request connection; HAProxy does not watch either).
            read = read && inBuf.freeBytes > 0 && !(ex.clientAskedClose && ex.requestDone && inBuf.isEmpty)
        case .tunnel:
            read = read && inBuf.freeBytes > 0
        case .closing(let lingering):
            read = read && lingering
        case .held, .closed:
            read = false
        }
        guard let tls else {
            transport.set(read: read, write: !outBuf.isEmpty)
            return
        }
        transport.set(read: read, write: !outBuf.isEmpty || tls.wantsWrite)
        // Records OpenSSL already decrypted will not make the socket readable again.
        if read && tls.pending { transport.feedRead() }
    }

    // MARK: - writing to the client

    func flushClient() {
        // One reference for the calls below, not one per call (`transport` is a var).
        let transport = self.transport!
        guard !outBuf.isEmpty else {
            transport.set(write: false)
            return
        }
        switch tls?.write(from: outBuf) ?? transport.write(from: outBuf) {
        case .wrote(let n):
            ex.bytesOut += n
            if outBuf.isEmpty {
                outBuf.clear()
                transport.set(write: false)
            } else {
                transport.set(write: true)
            }
        case .wouldBlock:
            transport.set(write: true)
        case .failed:
            abort()
        }
    }

    /// Between requests nothing needs buffer memory: the worker's sweep
    /// gives back the blocks of an idle connection (so a busy keep-alive
    /// connection does not borrow and return them on every request).
    func releaseBuffersIfIdle() {
        guard phase == .head(.idle), inBuf.holdsMemory || outBuf.holdsMemory || upOut.holdsMemory else { return }
        inBuf.release()
        outBuf.release()
        upOut.clear()
        upOut.release()
        parser.releaseMemory()
        responseParser.releaseMemory()
        ex = Exchange()  // the access log's copies of the last request
    }

    // MARK: - deadlines

    func deadlinePassed() {
        switch phase {
        case .head(.started):
            respondLocal(408, close: true)
        case .head(.fresh), .head(.idle):
            close()
        case .exchange:
            if !ex.responseStarted {
                worker.logger.debug("upstream timeout", metadata: ["upstream": "\(upstreamPool?.server.name ?? "-")"])
                dropUpstream()
                respondLocal(504, close: true)
            } else {
                abort()
            }
        case .held:
            giveUpHolding()
        case .tunnel:
            switch tunnelRetirement {
            case .scheduled: closeRetiredTunnel()
            case .none, .awaitingFrameEnd: abort()
            }
        case .closing:
            abort()
        case .closed:
            break
        }
    }

    // MARK: - transitions
    //
    // Every change of `phase` is one of the functions below (`phase` is
    // private(set) to this file); each returns the step the connection takes
    // next, and `perform` takes it.
    //
    //   head(fresh|idle) ─first byte─► head(started) ─routed─► exchange ─101─► tunnel
    //                                    │      ▲                  │  │
    //                        no server,  │      │ parsed: retried  │  │ connect refused while
    //                        app starting▼      │                  │  │ its app restarts
    //                                   held ◄──┴──────────────────┘  │
    //                                    │ rewritten: retried ────────┘ (→ exchange)
    //   exchange ─response done, keep-alive─► head(idle)   (draining: → closing)
    //   any ─local error answer, drain─► closing ─flushed, FIN sent─► closing(lingering)
    //   any ─EOF, reset, timeout, abort─► closed (its upstream dropped)

    /// What a transition leaves the connection to do.
    enum Step {
        /// Go on with buffered request heads (the caller's loop takes them).
        case nextHead
        /// Send the started exchange to a server of this pool.
        case connect(UpstreamPool)
        /// Wait on the worker's held list, not reading.
        case hold
        /// Relay bytes both ways.
        case relay
        /// Flush what is buffered, then half-close.
        case flushAndFinish
        /// Discard input until the client closes (or the linger timeout).
        case discard
        /// Nothing: the connection is closed.
        case done
    }

    func perform(_ step: Step) {
        switch step {
        case .nextHead, .done:
            break
        case .connect(let pool):
            if attach(pool) { pumpRequest() }
        case .hold:
            updateClientInterest()
            worker.held.append(self)
        case .relay:
            pumpTunnel()
        case .flushAndFinish:
            dropUpstream()
            flushClient()
            if case .closing = phase { finishClosing() }
        case .discard:
            inBuf.clear()
            updateClientInterest()
        }
    }

    /// head(fresh|idle) → head(started): a head's first bytes arrived.
    func beginHead() {
        if phase == .head(.idle) { deadline = now + worker.settings.headerTimeout }
        // Reset here, not when the last exchange started: by now no copy of
        // the old head is alive, so its arrays are reused in place.
        parser.reset()
        ex.start = now  // a 408 or 400 for this head is timed from its first byte
        phase = .head(.started)
    }

    /// head(started) or held → exchange: the request goes to `pool`'s server.
    func enterExchange(_ pool: UpstreamPool) -> Step {
        phase = .exchange
        return .connect(pool)
    }

    /// head(started) or exchange → held: its app has no server yet.
    func enterHeld(_ form: HeldRequest.Form) -> Step {
        phase = .held(HeldRequest(since: ex.start, form: form))
        deadline = ex.start + worker.settings.startTimeout
        return .hold
    }

    /// held → head(started) (a parsed request is taken again), or → exchange
    /// (a rewritten one is answered locally); returns what it was.
    func leaveHeld() -> HeldRequest? {
        guard case .held(let held) = phase else { return nil }
        switch held.form {
        case .parsed: phase = .head(.started)
        case .rewritten: phase = .exchange
        }
        return held
    }

    /// exchange → tunnel: the upstream answered 101.
    func enterTunnel() -> Step {
        phase = .tunnel
        deadline = now + worker.settings.idleTimeout
        return .relay
    }

    /// → head(idle) under the idle timeout (a quiet second when draining:
    /// the response promised keep-alive, so the client may send its next
    /// request at once; that one is answered with Connection: close).
    func enterIdle() -> Step {
        phase = .head(.idle)
        deadline = now + (worker.draining ? min(Self.drainIdleGrace, worker.settings.idleTimeout) : worker.settings.idleTimeout)
        return .nextHead
    }

    /// → closed without closing the socket: an HTTP/2 connection took it over.
    private func enterHandedOver() -> Step {
        phase = .closed
        worker.forget(self)
        return .done
    }

    /// ALPN h2, or an HTTP/2 preface on an `h2c` listener: the socket (and
    /// its TLS session, and the bytes read so far) go to an `H2Connection`.
    func handOffToH2() {
        guard let socket = transport as? SocketTransport else {
            close()
            return
        }
        let fd = socket.detach()
        let initial = inBuf.readableArray
        inBuf.clear()
        perform(enterHandedOver())
        worker.adoptH2(fd: fd, peer: peer, tls: tls, initial: initial)
    }

    /// → closing: send what is buffered, then half-close and discard input
    /// until the client closes (so a pending request body can't turn our
    /// close into a reset).
    func enterClosing() -> Step {
        phase = .closing(lingering: false)
        deadline = now + worker.settings.lingerTimeout
        return .flushAndFinish
    }

    /// closing → closing(lingering): flushed; FIN (and close_notify) sent.
    private func enterLingering() -> Step {
        phase = .closing(lingering: true)
        tls?.shutdown()
        transport.shutdownWrite()
        return .discard
    }

    /// → closed, with any upstream dropped (never left pointing at a closed
    /// client, or counted busy).
    private func enterClosed() -> Step {
        endSplice()
        dropUpstream()
        let notified = phase == .closing(lingering: true)
        phase = .closed
        // close_notify (once; best effort on a non-blocking socket): OpenSSL
        // drops a session whose connection ends without one from its cache.
        if let tls, !notified { tls.shutdown() }
        transport.close()
        worker.forget(self)
        return .done
    }

    // MARK: - closing

    func beginClose() { perform(enterClosing()) }

    private func finishClosing() {
        guard outBuf.isEmpty else { updateClientInterest(); return }
        if clientEOF || clientSendsNothingMore { close(); return }
        perform(phase == .closing(lingering: false) ? enterLingering() : .discard)
    }

    /// The client asked to close and its request was read to the end: no
    /// byte of it can be in flight, so closing at once sends a FIN, not a
    /// reset, and there is no need to wait for the client's FIN (plain
    /// sockets: a TLS client may still send its close_notify).
    private var clientSendsNothingMore: Bool {
        tls == nil && h2Stream == nil && ex.clientAskedClose && ex.requestDone && inBuf.isEmpty
    }

    /// Closes the client and any upstream at once.
    func abort() {
        dropUpstream()
        close()
    }

    func close() {
        guard phase != .closed else { return }
        perform(enterClosed())
    }

    /// Closes the exchange's upstream connection without returning it to the pool.
    func dropUpstream() {
        if let up = upstream {
            up.close()
            upstream = nil
        }
        if let pool = upstreamPool {
            pool.active -= 1
            upstreamPool = nil
            worker.exchangeLeft(pool)
        }
    }
}

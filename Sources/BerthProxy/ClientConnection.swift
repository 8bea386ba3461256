import BerthHTTP

/// One client TCP connection and the exchange it is in. Requests are served
/// one at a time in arrival order (pipelined ones wait in `inBuf`), and every
/// buffer is bounded: a side whose destination buffer is full stops being read.
final class ClientConnection: IOEventHandler {
    enum Phase {
        /// Waiting for or parsing a request head.
        case head
        /// A container app's request waits for a server (its app is starting, or
        /// its only replica refused while restarting); the worker retries it.
        case held
        /// A request is with an upstream.
        case exchange
        /// Bytes flow both ways after a 101.
        case tunnel
        /// Flushing the last response, then reading and discarding until close.
        case closing
        case closed
    }

    unowned(unsafe) let worker: Worker
    let fd: Int32
    let peer: [UInt8]
    private(set) var watcher: IOWatcher!
    let inBuf: ByteBuffer
    let outBuf: ByteBuffer
    let upOut: ByteBuffer
    var parser: RequestHeadParser
    var responseParser = ResponseHeadParser()
    var requestDecoder = ChunkedDecoder()
    var responseDecoder = ChunkedDecoder()
    var phase: Phase = .head
    var ex = Exchange()
    var upstream: UpstreamConnection?
    var upstreamPool: UpstreamPool?
    var deadline = 0.0
    var registryIndex = -1
    var clientEOF = false
    /// Waiting between keep-alive requests (the idle timeout applies, and expiry is silent).
    var betweenRequests = false
    /// Some bytes of the current head have arrived (a timeout is then a 408).
    var headStarted = false
    var shutdownSent = false
    /// While `.held`: the held head's length and when the request arrived.
    var heldHeadLength = 0
    var heldSince: Double?
    /// Held after its head was rewritten for an upstream (its connect failed):
    /// `upOut` holds the request, `inBuf` no longer has the head.
    var heldAfterRewrite = false
    /// Set for a connection that came in on a TLS listener.
    let tls: TLSSession?

    init(fd: Int32, peer: [UInt8], worker: Worker, tls: TLSSession? = nil) {
        self.fd = fd
        self.tls = tls
        self.peer = peer
        self.worker = worker
        let size = worker.settings.bufferSize
        inBuf = ByteBuffer(capacity: min(size, worker.settings.maxHeadSize + 1))
        outBuf = ByteBuffer(capacity: size)
        upOut = ByteBuffer(capacity: size)
        parser = RequestHeadParser(maxHeadSize: worker.settings.maxHeadSize)
        watcher = IOWatcher(loop: worker.loop, fd: fd, handler: self)
    }

    var now: Double { worker.loop.now }

    func start() {
        deadline = now + worker.settings.headerTimeout
        watcher.set(read: true)
    }

    // MARK: - readiness

    func ioReady(readable: Bool, writable: Bool) {
        if let tls, !tls.established {
            continueHandshake(tls)
            return
        }
        if writable {
            flushClient()
            if phase == .closed { return }
            afterClientDrained()
        }
        if readable && phase != .closed { readClient() }
    }

    /// Drives the TLS handshake (under the header timeout set at accept: a
    /// client that stalls mid-handshake is closed by it like a slow head).
    private func continueHandshake(_ tls: TLSSession) {
        switch tls.handshake() {
        case .done:
            watcher.set(read: true, write: false)
            readClient()
        case .wantRead:
            watcher.set(read: true, write: false)
        case .wantWrite:
            watcher.set(read: false, write: true)
        case .failed:
            worker.logger.debug("TLS handshake failed", metadata: ["client": "\(String(decoding: peer, as: UTF8.self))"])
            close()
        }
    }

    private func readClient() {
        let result = tls?.read(into: inBuf) ?? Socket.read(fd, into: inBuf)
        switch result {
        case .bytes(let n):
            if n == 0 { updateClientInterest(); return }
            ex.bytesIn += n
        case .eof:
            clientEOF = true
        case .wouldBlock:
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
            deadline = now + worker.settings.idleTimeout
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
        case .exchange, .tunnel:
            read = read && inBuf.freeBytes > 0
        case .closing:
            read = read && shutdownSent
        case .held, .closed:
            read = false
        }
        guard let tls else {
            watcher.set(read: read, write: !outBuf.isEmpty)
            return
        }
        watcher.set(read: read, write: !outBuf.isEmpty || tls.wantsWrite)
        // Records OpenSSL already decrypted will not make the socket readable again.
        if read && tls.pending { watcher.feedRead() }
    }

    // MARK: - writing to the client

    func flushClient() {
        guard !outBuf.isEmpty else {
            watcher.set(write: false)
            return
        }
        switch tls?.write(from: outBuf) ?? Socket.write(fd, from: outBuf) {
        case .wrote(let n):
            ex.bytesOut += n
            if outBuf.isEmpty {
                outBuf.clear()
                watcher.set(write: false)
            } else {
                watcher.set(write: true)
            }
        case .wouldBlock:
            watcher.set(write: true)
        case .failed:
            abort()
        }
    }

    // MARK: - deadlines

    func deadlinePassed() {
        switch phase {
        case .head:
            if headStarted && !betweenRequests {
                respondLocal(408, close: true)
            } else {
                close()
            }
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
        case .tunnel, .closing:
            abort()
        case .closed:
            break
        }
    }

    // MARK: - closing

    /// Sends what is buffered, then half-closes and discards input until the
    /// client closes (so a pending request body can't turn our close into a reset).
    func beginClose() {
        phase = .closing
        deadline = now + worker.settings.lingerTimeout
        dropUpstream()
        flushClient()
        if phase == .closing { finishClosing() }
    }

    private func finishClosing() {
        guard outBuf.isEmpty else { updateClientInterest(); return }
        if clientEOF { close(); return }
        if !shutdownSent {
            shutdownSent = true
            tls?.shutdown()
            Socket.shutdownWrite(fd)
        }
        inBuf.clear()
        updateClientInterest()
    }

    /// Closes the client and any upstream at once.
    func abort() {
        dropUpstream()
        close()
    }

    func close() {
        guard phase != .closed else { return }
        // Never leave an upstream pointing at a closed client (or counted busy).
        if upstream != nil || upstreamPool != nil { dropUpstream() }
        phase = .closed
        watcher.stop()
        // close_notify (once; best effort on a non-blocking socket): OpenSSL
        // drops a session whose connection ends without one from its cache.
        if let tls, !shutdownSent { tls.shutdown() }
        Socket.close(fd)
        worker.forget(self)
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

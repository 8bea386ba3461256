#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP

/// Reading request heads, routing them and sending them upstream.
extension ClientConnection {
    /// Parses and starts requests while whole heads are buffered. Pipelined
    /// requests are taken one at a time; a full output buffer pauses them.
    func processHeads() {
        while case .head(let wait) = phase {
            if inBuf.isEmpty {
                if clientEOF { close(); return }
                updateClientInterest()
                return
            }
            if outBuf.readableBytes >= outBuf.capacity {
                updateClientInterest()  // wait for the client to read its responses
                return
            }
            if wait != .started { beginHead() }
            if acceptsH2c, wait == .fresh, ex.bytesIn == inBuf.readableBytes, startsWithH2Preface() {
                handOffToH2()
                return
            }
            switch inBuf.withReadableBytes({ parser.parse($0) }) {
            case .needMore:
                if clientEOF { close(); return }
                if inBuf.freeBytes == 0 { inBuf.ensureCapacity(worker.settings.maxHeadSize + 1) }
                updateClientInterest()
                return
            case .error(let e):
                worker.logger.debug("bad request", metadata: ["reason": "\(e)", "client": "\(String(decoding: peer, as: UTF8.self))"])
                ex = Exchange()
                ex.start = now
                respondLocal(e.status, close: true)
                return
            case .complete(let n):
                startExchange(headLength: n)
            }
        }
    }

    /// `arrived` is when a held request first came (else now).
    private func startExchange(headLength: Int, arrived: Double? = nil) {
        ex = Exchange()
        ex.start = arrived ?? now
        ex.bytesIn = headLength
        let head = parser.head
        ex.method = head.method
        ex.version = head.version
        ex.keepAlive = head.keepAlive
        ex.clientAskedClose = !head.keepAlive
        ex.upgrade = head.isUpgrade
        ex.forwardTrailers = head.semantics.acceptsTrailers || h2Stream != nil
        if ex.upgrade {
            let u = head.headers[head.semantics.upgradeIndex]
            ex.webSocket = inBuf.withReadableBytes { b in
                Array(b[u.valueStart..<u.valueEnd]).map { $0 | 0x20 } == Array("websocket".utf8)
            }
        }
        ex.requestFraming = head.framing
        if worker.accessLog != nil {
            inBuf.withReadableBytes { b in
                ex.logMethod = Array(b[head.start..<head.methodEnd])
                ex.logPath = Array(b[head.path.start..<head.target.end])
            }
        }
        if worker.draining { ex.keepAlive = false }
        // ACME HTTP-01: answered on plain listeners before routing and redirects.
        if !overTLS, let challenges = worker.acmeChallenges, !challenges.isEmpty,
           let answer = inBuf.withReadableBytes({ b in challenges.answer(path: UnsafeRawBufferPointer(rebasing: b[head.path.start..<head.path.end])) }) {
            inBuf.consume(headLength)
            respondText(answer, close: head.framing != .none || !ex.keepAlive)
            return
        }
        let table = worker.table
        let host = head.host, path = head.path  // the closure captures ranges, not a copy of the head
        let matched = inBuf.withReadableBytes { b in
            table.match(host: host.map { UnsafeRawBufferPointer(rebasing: b[$0.start..<$0.end]) },
                        path: UnsafeRawBufferPointer(rebasing: b[path.start..<path.end]))
        }
        let hasBody = head.framing != .none
        guard let route = matched else {
            inBuf.consume(headLength)
            respondLocal(404, close: hasBody || !ex.keepAlive)
            return
        }
        if case .length(let n) = head.framing, n > worker.settings.maxBodySize {
            inBuf.consume(headLength)
            respondLocal(413, close: true)
            return
        }
        ex.route = route
        if route.redirectHTTPS && !overTLS, let port = worker.settings.httpsPort {
            redirectToHTTPS(head, port: port, headLength: headLength, hasBody: hasBody)
            return
        }
        guard let pool = worker.choosePool(route) else {
            if route.holdsWhileStarting && now < ex.start + worker.settings.startTimeout {
                perform(enterHeld(.parsed(headLength: headLength)))
                return
            }
            // No server, or none healthy: tell the client when to come back.
            inBuf.consume(headLength)
            respondLocal(503, close: hasBody || !ex.keepAlive, extraHeaders: "Retry-After: 5\r\n")
            return
        }
        upOut.clear()
        let idRange = inBuf.withReadableBytes { b in
            RequestRewriter.write(head, b, route: route,
                                  context: .init(clientAddress: peer, upstreamName: pool.server.authorityBytes, chunked: head.framing == .chunked, tls: overTLS),
                                  ids: &worker.requestIDs, into: upOut)
        }
        if worker.accessLog != nil {
            ex.logRequestID = upOut.withReadableBytes { Array($0[idRange.start..<idRange.end]) }
            ex.logUpstream = pool.server.nameBytes
        }
        inBuf.consume(headLength)
        switch head.framing {
        case .length(let n):
            ex.requestRemaining = n
            ex.requestDone = false
        case .chunked:
            requestDecoder.reset()
            ex.requestDone = false
        case .none, .untilClose:
            ex.requestDone = true
        }
        ex.retryable = ex.method.isIdempotent && ex.requestDone
        responseParser.reset()
        perform(enterExchange(pool))
    }

    /// 308 to the same URL over https (the Host header's name, the TLS listener's port).
    private func redirectToHTTPS(_ head: RequestHead, port: Int, headLength: Int, hasBody: Bool) {
        var location = "https://"
        inBuf.withReadableBytes { b in
            var host = head.host.map { String(decoding: b[$0.start..<$0.end], as: UTF8.self) } ?? ""
            if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
            location += host.isEmpty ? "localhost" : host
            if port != 443 { location += ":\(port)" }
            location += String(decoding: b[head.target.start..<head.target.end], as: UTF8.self)
        }
        inBuf.consume(headLength)
        respondLocal(308, close: hasBody || !ex.keepAlive, location: location)
    }

    /// Parks the parsed request (its head stays in `inBuf`, or, once
    /// rewritten for an upstream, in `upOut`) until its app has a server or
    /// `timeouts { start }` passes; the worker retries it.

    /// Tries a held request again (its app may have a server now); one
    /// still without a server is held again (and re-listed by `hold`).
    func retryHeld() {
        guard case .held(let held) = phase else { return }
        switch held.form {
        case .rewritten:
            // The app's route in the newest table (new placements), else the one it had.
            let current = ex.route.flatMap { old in worker.table.routes.first { $0.name == old.name } } ?? ex.route
            // A request a server reset (`replayed`: its second failure is a
            // 502) skips that server until its app's route changes (the
            // control plane routed the successor).
            let skip = ex.replayed && current === ex.route ? ex.failedServer : nil
            guard let route = current, let pool = worker.choosePool(route, excluding: skip) else {
                worker.held.append(self)
                return
            }
            ex.route = route
            ex.failedServer = nil
            perform(enterExchange(pool))
        case .parsed(let headLength):
            guard let taken = leaveHeld() else { return }
            startExchange(headLength: headLength, arrived: taken.since)
        }
        // Answered here (404, 502, 503...) and kept alive: read the next request
        // (reading was off while held).
        if phase.isHead { processHeads() }
    }

    /// The hold timed out: 503, as when nothing is starting.
    func giveUpHolding() {
        guard let held = leaveHeld() else { return }
        guard case .parsed(let headLength) = held.form else {
            respondLocal(503, close: true, extraHeaders: "Retry-After: 5\r\n")
            return
        }
        inBuf.consume(headLength)
        let hasBody = parser.head.framing != .none
        respondLocal(503, close: hasBody || !ex.keepAlive, extraHeaders: "Retry-After: 5\r\n")
        if phase.isHead { processHeads() }  // reading was off while held
    }

    /// Takes a connection from `pool` (or opens one) for this exchange. A
    /// connect that fails at once moves on to another server; false when the
    /// exchange was answered instead (502 or 503).
    func attach(_ pool: UpstreamPool) -> Bool {
        guard let up = ex.route?.h2c == true ? worker.connectH2(pool) : worker.connect(pool) else {
            return connectFailed(pool.server, "connect: errno \(errno)")
        }
        up.owner = self
        upstream = up
        upstreamPool = pool
        pool.active += 1
        ex.attempts += 1
        deadline = now + (up.connecting ? worker.settings.connectTimeout : worker.settings.upstreamTimeout)
        up.transport.set(read: !up.connecting, write: up.connecting)
        return true
    }

    /// Moves request body bytes from `inBuf` to `upOut` (decoding and
    /// re-encoding chunked bodies) and sends them, until the client's bytes
    /// run out or the upstream stops taking them.
    func pumpRequest() {
        while true {
            if !moveRequestBody() { return }
            flushUpstream()
            guard phase == .exchange, upstream != nil else { return }
            // Go round again only when the flush emptied upOut and input is left.
            if ex.requestDone || inBuf.isEmpty || !upOut.isEmpty { break }
        }
        updateClientInterest()
    }

    /// One pass of body bytes into `upOut`; false when the exchange ended.
    private func moveRequestBody() -> Bool {
        while !ex.requestDone {
            let room = upOut.capacity - upOut.readableBytes
            if room < 64 || inBuf.isEmpty { break }
            switch ex.requestFraming {
            case .length:
                let n = min(ex.requestRemaining, inBuf.readableBytes, room)
                upOut.append(from: inBuf, count: n)
                inBuf.consume(n)
                ex.requestRemaining -= n
                ex.bodyBytes += n
                if ex.requestRemaining == 0 { ex.requestDone = true }
            case .chunked:
                var pos = 0
                let step = inBuf.withReadableBytes { requestDecoder.decode($0, position: &pos, maxData: room - 32) }
                switch step {
                case .data(let offset, let count):
                    ex.bodyBytes += count
                    if ex.bodyBytes > worker.settings.maxBodySize {
                        requestBodyRefused(413)
                        return false
                    }
                    ChunkedEncoder.appendChunkHeader(count, to: upOut)
                    upOut.append(from: inBuf, offset: offset, count: count)
                    ChunkedEncoder.appendChunkEnd(to: upOut)
                    inBuf.consume(pos)
                case .done:
                    inBuf.consume(pos)
                    // A request's trailers go on too (a chunked upstream request always takes them).
                    TrailerFields.appendLastChunk(requestDecoder.trailers, to: upOut)
                    ex.requestDone = true
                case .needMore:
                    inBuf.consume(pos)
                case .error(let e):
                    requestBodyRefused(e.status)
                    return false
                }
            case .none, .untilClose:
                ex.requestDone = true
            }
        }
        return true
    }

    /// A request body turned out bad mid-stream: answer if nothing was answered yet, else cut.
    private func requestBodyRefused(_ status: Int) {
        if ex.responseStarted {
            abort()
        } else {
            dropUpstream()
            respondLocal(status, close: true)
        }
    }

    /// Writes `upOut` to the upstream socket as far as it goes.
    func flushUpstream() {
        guard let up = upstream, !up.connecting else { return }
        let transport = up.transport!  // one reference for the calls below
        if upOut.isEmpty {
            transport.set(write: false)
            return
        }
        switch transport.write(from: upOut) {
        case .wrote:
            transport.set(write: !upOut.isEmpty)
        case .wouldBlock:
            transport.set(write: true)
        case .failed(let e):
            upstreamFailed("write: \(e)")
        }
    }

    /// A 200 with `text` (an ACME key authorization), then the next request or close.
    func respondText(_ text: String, close: Bool) {
        ex.status = 200
        let closing = close || !ex.keepAlive || clientEOF
        LocalResponse.write(text: text, close: closing, http10KeepAlive: ex.version == .http10 && ex.keepAlive,
                            headOnly: ex.method == .head, into: outBuf)
        logExchange()
        if closing {
            beginClose()
            return
        }
        awaitNextRequest()
        guard phase != .closed else { return }
        flushClient()
    }

    /// Answers with a response berth makes itself, then goes on with the next
    /// request or closes.
    func respondLocal(_ status: Int, close: Bool, extraHeaders: StaticString = "", location: String? = nil) {
        ex.status = status
        let closing = close || !ex.keepAlive || clientEOF
        LocalResponse.write(status: status, close: closing, http10KeepAlive: ex.version == .http10 && ex.keepAlive,
                            headOnly: ex.method == .head, extraHeaders: extraHeaders, location: location, into: outBuf)
        logExchange()
        if closing {
            beginClose()
            return
        }
        awaitNextRequest()
        guard phase != .closed else { return }  // draining: beginClose may have closed it
        flushClient()
    }

    /// `server` took none of the request (refused the connection), or reset a
    /// replayable one with no byte of answer: count it against the server
    /// and try another of the route's once, else hold the request while a
    /// container app's replica is replaced. False when the exchange was
    /// held or answered (502) instead.
    func connectFailed(_ server: UpstreamServer, _ why: String) -> Bool {
        worker.logger.debug("upstream connect failed", metadata: ["upstream": "\(server.name)", "reason": "\(why)"])
        server.health.passiveFailure(reason: why, fall: ex.route?.health?.fall ?? 3, holdMs: holdOffMs)
        dropUpstream()
        let firstFailure = ex.failedServer == nil
        ex.failedServer = server
        if firstFailure, let route = ex.route, let next = worker.choosePool(route, excluding: server) {
            upOut.rewind(to: 0)  // the whole request is still there (written or not)
            return attach(next)
        }
        if let route = ex.route, route.holdsWhileStarting, now < ex.start + worker.settings.startTimeout {
            // A container app's replica went away (restarting): wait for the
            // control plane to route a new one rather than fail.
            upOut.rewind(to: 0)
            perform(enterHeld(.rewritten))
            return false
        }
        respondLocal(502, close: !ex.requestDone)
        return false
    }

    /// How long a passively failed server is skipped: until its active check
    /// could have brought it back, or 10 s without one.
    var holdOffMs: Int {
        guard let h = ex.route?.health else { return 10_000 }
        return Int(h.interval * Double(h.rise) * 1000)
    }

    /// Asked to drain: an idle connection closes now, a busy one after its answer.
    /// The first bytes are HTTP/2's client preface (`PRI * HTTP/2.0`), or what came of it so far.
    private func startsWithH2Preface() -> Bool {
        let preface: StaticString = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        return inBuf.withReadableBytes { b in
            let n = min(b.count, preface.utf8CodeUnitCount)
            return n >= 3 && memcmp(b.baseAddress!, preface.utf8Start, n) == 0
        }
    }

    /// How long an idle keep-alive connection stays open once draining.
    static let drainIdleGrace = 1.0

    func drainRequested() {
        switch phase {
        case .head(.fresh), .head(.idle):
            // The last response (which promised keep-alive) is still going
            // out: it finishes, then the quiet second below applies.
            if !outBuf.isEmpty {
                deadline = min(deadline, now + Self.drainIdleGrace)
                return
            }
            // A request may already be in the socket: answer it (with
            // Connection: close). A new or idle keep-alive connection is
            // closed only after a quiet second: the client may be sending
            // its request right now, and closing under it is an error it
            // sees (the keep-alive race). A request in that second is
            // answered with Connection: close.
            if tls.map({ !$0.established }) ?? false {
                close()  // still shaking hands: nothing to answer
            } else if case .bytes(let n) = tls?.read(into: inBuf) ?? transport.read(into: inBuf), n > 0 {
                processHeads()
            } else {
                deadline = min(deadline, now + Self.drainIdleGrace)
            }
        case .exchange:
            if !ex.responseStarted { ex.keepAlive = false }
        default:
            break
        }
    }

    /// Back to reading heads, under the idle timeout until the next byte.
    func awaitNextRequest() {
        // Reading heads (.nextHead): the caller goes on with what is buffered.
        perform(enterIdle())
    }
}

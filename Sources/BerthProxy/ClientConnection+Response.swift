import BerthHTTP

/// Reading the upstream's response and relaying it to the client.
extension ClientConnection {
    func upstreamReady(readable: Bool, writable: Bool) {
        guard let up = upstream else { return }
        if up.connecting {
            let err = up.transport.pendingError()
            if err != 0 {
                if attach(afterConnectFailureOf: up.pool.server, err) { pumpRequest() }
                return
            }
            up.connecting = false
            deadline = now + worker.settings.upstreamTimeout
            up.transport.set(read: true, write: true)
        }
        if writable {
            flushUpstream()
            guard upstream != nil else { return }
            if phase == .tunnel { pumpTunnel(); return }
            if !ex.requestDone { pumpRequest() }
        }
        if readable, splicePipe != nil {
            pumpSplice()
            return
        }
        if readable, let up = upstream {
            switch up.transport.read(into: up.inBuf) {
            case .bytes(let n):
                if n == 0 { pauseUpstreamIfFull(); return }
            case .eof:
                up.eof = true
            case .wouldBlock:
                return
            case .failed(let e):
                if !ex.responseHeadDone && up.inBuf.isEmpty {
                    upstreamFailed("read: errno \(e)")
                    return
                }
                up.eof = true
            }
            if phase != .tunnel {
                deadline = now + worker.settings.upstreamTimeout
            } else if case .none = tunnelRetirement {
                deadline = now + worker.settings.idleTimeout  // a retiring one keeps its moment
            }
            if phase == .tunnel { pumpTunnel() } else { pumpResponse() }
        }
    }

    /// A non-blocking connect failed: another server gets the request if one is up.
    private func attach(afterConnectFailureOf server: UpstreamServer, _ err: Int32) -> Bool {
        connectFailed(server, "connect: errno \(err)")
    }

    /// The upstream failed before a byte of its response. A replayable
    /// request (idempotent, wholly read) goes again: on a fresh connection
    /// when the failed one was pooled (the server dropped it while idle),
    /// else once to another server, or, for a container app whose replica
    /// went away (killed before it answered), held for its successor, as a
    /// refused connect is. Anything else is a 502, or, once the response
    /// has begun or the connection is a tunnel (a WebSocket's bytes mean
    /// nothing to a server that never saw its upgrade), the end of the
    /// client's connection.
    func upstreamFailed(_ why: String) {
        guard let up = upstream else { return }
        let pool = up.pool
        if phase == .exchange && !ex.responseStarted && ex.retryable && up.inBuf.isEmpty {
            responseParser.reset()
            if up.reused && ex.attempts == 1 {
                dropUpstream()
                upOut.rewind(to: 0)
                // A fresh connection, not another pooled one that may be just as stale.
                pool.closeAll()
                if attach(pool) { flushUpstream() }
                return  // attached, or answered or held by connectFailed
            }
            if !ex.replayed {
                ex.replayed = true
                if connectFailed(pool.server, "\(why) before responding") { flushUpstream() }
                return
            }
        }
        worker.logger.debug("upstream failed", metadata: ["upstream": "\(pool.server.name)", "reason": "\(why)"])
        dropUpstream()
        if ex.responseStarted || phase != .exchange {
            abort()
        } else {
            respondLocal(502, close: !ex.requestDone)
        }
    }

    private func pauseUpstreamIfFull() {
        guard let up = upstream else { return }
        up.transport.set(read: up.inBuf.freeBytes > 0 && !up.eof)
    }

    /// Parses the response head, then relays body bytes while the client's
    /// buffer has room. Stops reading the upstream when it has none.
    func pumpResponse() {
        guard let up = upstream else { return }
        if splicePipe != nil {
            pumpSplice()
            return
        }
        while !ex.responseHeadDone {
            switch up.inBuf.withReadableBytes({ responseParser.parse($0) }) {
            case .needMore:
                if up.eof {
                    if up.inBuf.isEmpty { upstreamFailed("closed before responding") } else { badResponse("truncated head") }
                    return
                }
                if up.inBuf.freeBytes == 0 { up.inBuf.ensureCapacity(responseParser.maxHeadSize + 1) }
                up.transport.set(read: true)
                flushClient()  // a relayed 100 Continue may be waiting
                return
            case .error(let e):
                badResponse("\(e)")
                return
            case .complete(let n):
                if !startResponse(headLength: n) { return }
            }
        }
        while true {
            relayBody(up)
            flushClient()
            guard phase == .exchange, upstream != nil else { return }
            // Go round again only when the flush emptied outBuf and input is left.
            if ex.responseDone || up.inBuf.isEmpty || !outBuf.isEmpty { break }
        }
        if ex.responseDone {
            finishExchange()
        } else if startSplicing(up) {
            pumpSplice()
        } else {
            up.transport.set(read: !up.eof && up.inBuf.freeBytes > 0 && outBuf.readableBytes < outBuf.capacity)
        }
    }

    /// Handles a complete response head; false when the exchange ended or changed phase.
    private func startResponse(headLength n: Int) -> Bool {
        guard let up = upstream else { return false }
        let head = responseParser.head
        if head.isInformational {
            if head.status == 101 {
                guard ex.upgrade else { badResponse("101 without an upgrade request"); return false }
                ex.status = 101
                up.inBuf.withReadableBytes {
                    ResponseRewriter.write(head, $0, chunked: false, connection: .upgrade, into: outBuf)
                }
                up.inBuf.consume(n)
                startTunnel()
                return false
            }
            // 100 Continue and friends go to HTTP/1.1 clients only.
            if ex.version == .http11 {
                ex.interimSent = true
                up.inBuf.withReadableBytes {
                    ResponseRewriter.write(head, $0, chunked: false, connection: .none, into: outBuf)
                }
            }
            up.inBuf.consume(n)
            responseParser.reset()
            return true
        }
        if head.status == 404, retryOnPreviousVersion() { return false }
        ex.status = head.status
        ex.responseHeadDone = true
        if head.status >= 500 {
            up.pool.server.health.passiveFailure(reason: "status \(head.status)", fall: ex.route?.health?.fall ?? 3, holdMs: holdOffMs)
        } else {
            up.pool.server.health.passiveSuccess()
        }
        ex.responseFraming = head.framing(for: ex.method)
        if !ex.requestDone { ex.closeAfter = true }  // answered before the whole body: can't resync
        let clientKeepAlive = ex.keepAlive && !ex.closeAfter && !clientEOF
        switch ex.responseFraming {
        case .length(let len):
            ex.responseRemaining = len
        case .chunked, .untilClose:
            ex.chunkedOut = ex.version == .http11
            if ex.responseFraming == .chunked { responseDecoder.reset() }
            if !ex.chunkedOut { ex.closeAfter = true }  // HTTP/1.0 client: close delimits
        case .none:
            ex.responseDone = true
        }
        ex.upstreamReusable = head.keepAlive && ex.responseFraming != .untilClose
        let keep = clientKeepAlive && !ex.closeAfter
        if !keep { ex.closeAfter = true }
        let connection: ResponseRewriter.ConnectionField =
            !keep ? .close : (ex.version == .http10 ? .keepAlive : .none)
        if let stream = h2HeadSink, outBuf.isEmpty, stream.takesHeadDirectly {
            // An HTTP/2 stream: the head as parsed; the body follows as bytes, framed as it would be here.
            let chunked = ex.chunkedOut
            up.inBuf.withReadableBytes { stream.startResponse(head, $0, chunkedBody: chunked) }
        } else {
            up.inBuf.withReadableBytes {
                ResponseRewriter.write(head, $0, chunked: ex.chunkedOut, connection: connection, into: outBuf)
            }
        }
        up.inBuf.consume(n)
        return true
    }

    /// `skew-retry`: the new version has no such page, the draining old one
    /// may (an asset of a page it rendered). A GET or HEAD without a body is
    /// sent once to the old version, whose answer the client gets; the 404's
    /// connection is dropped unread. False when the 404 stands.
    private func retryOnPreviousVersion() -> Bool {
        guard !ex.skewRetried, !ex.interimSent, ex.retryable, ex.method == .get || ex.method == .head,
              let route = ex.route, !route.previousServers.isEmpty, let old = worker.choosePreviousPool(route) else { return false }
        ex.skewRetried = true
        if worker.accessLog != nil { ex.logUpstream = old.server.nameBytes }
        dropUpstream()
        upOut.rewind(to: 0)  // the whole request is still there (no body)
        responseParser.reset()
        if attach(old) { flushUpstream() }
        return true
    }

    /// Copies body bytes from the upstream's buffer to the client's, within its room.
    private func relayBody(_ up: UpstreamConnection) {
        while !ex.responseDone {
            let room = outBuf.capacity - outBuf.readableBytes
            if room < 64 { return }
            switch ex.responseFraming {
            case .length:
                let n = min(ex.responseRemaining, up.inBuf.readableBytes, room)
                if n == 0 {
                    if up.eof { truncated(); }
                    return
                }
                outBuf.append(from: up.inBuf, count: n)
                up.inBuf.consume(n)
                ex.responseRemaining -= n
                if ex.responseRemaining == 0 { ex.responseDone = true }
            case .chunked:
                var pos = 0
                let step = up.inBuf.withReadableBytes { responseDecoder.decode($0, position: &pos, maxData: room - 32) }
                switch step {
                case .data(let offset, let count):
                    if ex.chunkedOut { ChunkedEncoder.appendChunkHeader(count, to: outBuf) }
                    outBuf.append(from: up.inBuf, offset: offset, count: count)
                    if ex.chunkedOut { ChunkedEncoder.appendChunkEnd(to: outBuf) }
                    up.inBuf.consume(pos)
                case .done:
                    up.inBuf.consume(pos)
                    if ex.chunkedOut {
                        if ex.forwardTrailers && !responseDecoder.trailers.isEmpty {
                            TrailerFields.appendLastChunk(responseDecoder.trailers, to: outBuf)
                        } else {
                            ChunkedEncoder.appendLastChunk(to: outBuf)
                        }
                    }
                    ex.responseDone = true
                case .needMore:
                    up.inBuf.consume(pos)
                    if up.eof { truncated() }
                    return
                case .error(let e):
                    worker.logger.debug("bad chunked response", metadata: ["reason": "\(e)"])
                    truncated()
                    return
                }
            case .untilClose:
                let n = min(up.inBuf.readableBytes, room - 16)
                if n > 0 {
                    if ex.chunkedOut { ChunkedEncoder.appendChunkHeader(n, to: outBuf) }
                    outBuf.append(from: up.inBuf, count: n)
                    if ex.chunkedOut { ChunkedEncoder.appendChunkEnd(to: outBuf) }
                    up.inBuf.consume(n)
                }
                if up.inBuf.isEmpty {
                    if up.eof {
                        if ex.chunkedOut { ChunkedEncoder.appendLastChunk(to: outBuf) }
                        ex.responseDone = true
                    }
                    return
                }
            case .none:
                ex.responseDone = true
            }
        }
    }

    /// The body ended early or broke: the client has the head already, so the
    /// only honest signal left is to close after what was sent.
    func truncated() {
        ex.closeAfter = true
        ex.responseDone = false
        logExchange()
        dropUpstream()
        flushClient()
        if phase != .closed { beginClose() }
    }

    /// The upstream sent something that isn't HTTP we are sure of.
    private func badResponse(_ why: String) {
        worker.logger.debug("bad upstream response", metadata: ["reason": "\(why)"])
        dropUpstream()
        if ex.responseStarted {
            abort()
        } else {
            respondLocal(502, close: true)
        }
    }

    /// The response is complete: pool the upstream if it can serve again,
    /// then wait for the next request or close.
    func finishExchange() {
        if let up = upstream, let pool = upstreamPool {
            upstream = nil
            upstreamPool = nil
            pool.active -= 1
            worker.exchangeLeft(pool)
            if ex.upstreamReusable && ex.requestDone && up.inBuf.isEmpty && !up.eof {
                worker.release(up)
            } else {
                up.close()
            }
        }
        logExchange()
        if ex.closeAfter || clientEOF {
            beginClose()
            return
        }
        awaitNextRequest()
        if !inBuf.isEmpty { processHeads() } else { updateClientInterest() }
    }

    /// The exchange is over (answered, failed or tunnelled): count it and log it.
    func logExchange() {
        worker.record(appID: ex.route?.appID ?? 0, status: ex.status, seconds: now - ex.start)
        guard let log = worker.accessLog else { return }
        ex.logMethod.withUnsafeBytes { m in
            ex.logPath.withUnsafeBytes { p in
                ex.logRequestID.withUnsafeBytes { id in
                    log.record(AccessLog.Entry(
                        start: ex.start, duration: now - ex.start, client: peer, method: m, path: p,
                        status: ex.status, bytesIn: ex.bytesIn, bytesOut: ex.bytesOut + outBuf.readableBytes,
                        app: ex.route?.nameBytes, upstream: ex.logUpstream,
                        requestID: ex.logRequestID.isEmpty ? nil : id, skewRetried: ex.skewRetried, h2: h2Stream != nil))
                }
            }
        }
    }
}

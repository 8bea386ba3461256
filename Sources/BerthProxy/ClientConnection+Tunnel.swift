import BerthHTTP

/// After a 101, bytes flow both ways unchanged until either side closes.
extension ClientConnection {
    func startTunnel() {
        ex.requestDone = true
        ex.responseDone = true
        logExchange()
        upOut.clear()
        tunnelFrames = ex.webSocket ? WebSocketFrameBoundary() : nil
        tunnelRetirement = .none
        perform(enterTunnel())
        // No longer an exchange: a drain waiting on exchanges alone may be done.
        if let pool = upstreamPool { worker.exchangeLeft(pool) }
    }

    /// A redeploy retires the version this tunnel goes to: it is closed at a
    /// random moment within `spread` seconds (so clients do not all come back at once).
    func retireTunnel(within spread: Double) {
        guard phase == .tunnel, case .none = tunnelRetirement else { return }
        tunnelRetirement = .scheduled
        deadline = min(deadline, now + Double.random(in: 0..<max(spread, 0.001)))
    }

    /// Its moment came: a WebSocket gets a close frame, 1012 (Service
    /// Restart), once the server's current frame has passed (waiting at most
    /// `frameEndWait`); any other tunnel is closed.
    func closeRetiredTunnel() {
        guard let frames = tunnelFrames else {
            abort()
            return
        }
        tunnelRetirement = .awaitingFrameEnd
        deadline = now + Self.frameEndWait
        if frames.atBoundary { finishRetiredTunnel() } else { pumpTunnel() }
    }

    static let frameEndWait = 5.0

    private func finishRetiredTunnel() {
        outBuf.append(WebSocketFrameBoundary.closeFrame(code: 1012))
        dropUpstream()
        beginClose()
    }

    func pumpTunnel() {
        guard phase == .tunnel, let up = upstream else { return }
        while true {
            // client → upstream
            let n = min(inBuf.readableBytes, upOut.capacity - upOut.readableBytes)
            if n > 0 {
                upOut.append(from: inBuf, count: n)
                inBuf.consume(n)
            }
            // upstream → client (a retiring WebSocket's up to its frame's end)
            var m = min(up.inBuf.readableBytes, outBuf.capacity - outBuf.readableBytes)
            if case .awaitingFrameEnd = tunnelRetirement, let f = tunnelFrames { m = min(m, f.bytesToBoundary) }
            if m > 0 {
                if tunnelFrames != nil {
                    up.inBuf.withReadableBytes { tunnelFrames!.advance(UnsafeRawBufferPointer(rebasing: $0[0..<m])) }
                }
                outBuf.append(from: up.inBuf, count: m)
                up.inBuf.consume(m)
            }
            if case .awaitingFrameEnd = tunnelRetirement, tunnelFrames?.atBoundary == true {
                finishRetiredTunnel()
                return
            }
            flushUpstream()
            guard phase == .tunnel, upstream != nil else { return }
            flushClient()
            guard phase == .tunnel else { return }
            // Go round again while a flush made room for bytes still waiting.
            let moreUp = !inBuf.isEmpty && upOut.isEmpty
            let moreDown = !up.inBuf.isEmpty && outBuf.isEmpty
            if !moreUp && !moreDown { break }
        }
        let clientDone = clientEOF && inBuf.isEmpty && upOut.isEmpty
        let upstreamDone = up.eof && up.inBuf.isEmpty && outBuf.isEmpty
        if clientDone || upstreamDone {
            if outBuf.isEmpty { abort() } else { beginClose() }
            return
        }
        up.transport.set(read: !up.eof && up.inBuf.freeBytes > 0 && outBuf.readableBytes < outBuf.capacity,
                       write: !upOut.isEmpty)
        updateClientInterest()
    }
}

import BerthHTTP

/// After a 101, bytes flow both ways unchanged until either side closes.
extension ClientConnection {
    func startTunnel() {
        ex.requestDone = true
        ex.responseDone = true
        logExchange()
        upOut.clear()
        perform(enterTunnel())
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
            // upstream → client
            let m = min(up.inBuf.readableBytes, outBuf.capacity - outBuf.readableBytes)
            if m > 0 {
                outBuf.append(from: up.inBuf, count: m)
                up.inBuf.consume(m)
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

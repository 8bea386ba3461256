/// Response bodies spliced socket to socket (HAProxy's `splice-auto`): a
/// body of known length whose rest is large, between a plain client socket
/// and a plain upstream socket, goes through a pipe of the worker's with
/// `splice(2)` — never copied into user space, never through a buffer. The
/// pipe is filled only while it is empty and the client has taken all of
/// it, so the bytes in flight stay bounded by the pipe's size, as with
/// buffers. TLS clients, HTTP/2 streams, chunked or close-delimited bodies
/// and anything smaller keep the buffered path.
extension ClientConnection {
    /// The rest of a body below this is not worth a pipe.
    static let spliceThreshold = 64 << 10

    /// Starts splicing the rest of this response's body when it qualifies:
    /// nothing of it waits in a buffer (the order of bytes stays), its
    /// length is known and large, both ends are plain sockets.
    func startSplicing(_ up: UpstreamConnection) -> Bool {
        guard splicePipe == nil, case .length = ex.responseFraming, ex.responseRemaining >= Self.spliceThreshold,
              outBuf.isEmpty, up.inBuf.isEmpty, !up.eof, tls == nil, h2Stream == nil,
              transport is SocketTransport, up.transport is SocketTransport,
              let pipe = worker.splicePipes.take() else { return false }
        splicePipe = pipe
        return true
    }

    /// Moves the body on: in from the upstream while the pipe has room,
    /// out to the client while it holds bytes (both in one round, so the
    /// two sockets work at once); waits on whichever side blocked. An
    /// upstream that ends before its Content-Length is read no more; what
    /// it sent still reaches the client, then the client is cut.
    func pumpSplice() {
        guard let pipe = splicePipe, let up = upstream,
              let client = transport as? SocketTransport, let server = up.transport as? SocketTransport else { return }
        var upstreamDry = up.eof, clientFull = false
        while true {
            var moved = false
            if ex.responseRemaining > 0 && pipe.room > 0 && !upstreamDry {
                switch pipe.fill(from: server.fd, count: min(ex.responseRemaining, pipe.room)) {
                case .bytes(let n):
                    ex.responseRemaining -= n
                    moved = true
                case .wouldBlock:
                    upstreamDry = true
                case .end, .failed:
                    up.eof = true
                    upstreamDry = true
                }
            }
            if pipe.held > 0 && !clientFull {
                switch pipe.drain(to: client.fd) {
                case .bytes(let n):
                    ex.bytesOut += n
                    worker.splicePipes.splicedBytes += n
                    moved = true
                case .wouldBlock:
                    clientFull = true
                case .end, .failed:
                    abort()  // the client went away
                    return
                }
            }
            if (ex.responseRemaining == 0 || up.eof) && pipe.held == 0 { break }
            if !moved { break }
            deadline = now + worker.settings.upstreamTimeout
        }
        if up.eof && ex.responseRemaining > 0 && pipe.held == 0 {
            endSplice()
            truncated()  // the upstream ended before its Content-Length
            return
        }
        if ex.responseRemaining > 0 || pipe.held > 0 {
            // Read the upstream only while the pipe has room; write while it holds bytes.
            up.transport.set(read: ex.responseRemaining > 0 && pipe.room > 0 && !up.eof)
            transport.set(write: pipe.held > 0)
            return
        }
        endSplice()
        transport.set(write: false)
        ex.responseDone = true
        finishExchange()
    }

    /// Gives the pipe back (a pipe still holding bytes is closed, not kept).
    func endSplice() {
        guard let pipe = splicePipe else { return }
        splicePipe = nil
        worker.splicePipes.give(pipe)
    }
}

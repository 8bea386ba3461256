#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP

/// One exchange's stream on an `H2UpstreamSession`, and the `Transport` of
/// the `UpstreamConnection` its `ClientConnection` drives: the HTTP/1.1
/// request it writes (head, then a length or chunked body) becomes the
/// stream's HEADERS and DATA; the stream's response is presented back as
/// HTTP/1.1 bytes to read (chunked unless it has a Content-Length, the
/// HTTP/2 trailers as the chunked trailer section, `connection: close` so
/// the exchange lets the stream go when done). Bounded both ways: request
/// bytes are taken only while the body buffer has room, and response DATA is
/// credited to the server's flow-control window only as it is read.
final class H2UpstreamStream: Transport {
    /// Strong: the session lives while an exchange may still call here.
    let session: H2UpstreamSession
    /// The stream id once the request head went to the session (-1 before).
    var id: Int32 = -1
    /// In the session's ready list.
    var queued = false
    unowned(unsafe) var handler: IOEventHandler!
    private(set) var wantsRead = false
    private(set) var wantsWrite = false
    private var closed = false
    /// The stream was reset or the session failed before the response ended.
    private var failed = false

    // Request: HTTP/1.1 in, HEADERS and DATA out
    private var headBytes: [UInt8] = []
    private var headDone = false
    private var parser: RequestHeadParser
    private var method: HTTPMethod = .get
    private var requestFraming: BodyFraming = .none
    private var requestRemaining = 0
    private var requestDecoder = ChunkedDecoder()
    private let requestBody: ByteBuffer
    private var requestDone = false
    private var requestDeferred = false
    private(set) var requestTrailers: [(name: [UInt8], value: [UInt8])] = []

    // Response: HEADERS and DATA in, HTTP/1.1 out
    private var status = 0
    private var fields: [(name: [UInt8], value: [UInt8])] = []
    private var trailers: [(name: [UInt8], value: [UInt8])] = []
    private var headSent = false
    private var chunked = false
    private var responseEnded = false
    private let responseBytes: ByteBuffer
    /// DATA bytes in `responseBytes` not yet credited, and where each run of
    /// them ends in the bytes written so far: credited once read past.
    private(set) var uncredited = 0
    private var credits: [(end: Int, count: Int)] = []
    private var creditsHead = 0
    private var writtenTotal = 0
    private var readTotal = 0
    /// The session still has the stream open (its window can be credited).
    private var open = false

    init(session: H2UpstreamSession) {
        self.session = session
        let w = session.worker
        parser = RequestHeadParser(maxHeadSize: w.settings.maxHeadSize)
        requestBody = ByteBuffer(pool: w.buffers)
        responseBytes = ByteBuffer(pool: w.buffers)
    }

    // MARK: - Transport (the exchange's side)

    func set(read: Bool, write: Bool) {
        wantsRead = read
        wantsWrite = write
        if (read && hasInput) || (write && hasRoom) { session.schedule(self) }
    }

    private var hasInput: Bool { !responseBytes.isEmpty || failed || (responseEnded && headSent) }
    private var hasRoom: Bool { failed || !headDone || (!requestDone && requestBody.freeBytes > 0) }

    func feedRead() { session.schedule(self) }

    func deliver() {
        queued = false
        guard !closed else { return }
        let r = wantsRead && hasInput
        let w = wantsWrite && hasRoom
        if r || w { handler.ioReady(readable: r, writable: w) }
    }

    func read(into buffer: ByteBuffer) -> Socket.ReadResult {
        if closed { return .failed(EBADF) }
        if responseBytes.isEmpty {
            if failed { return .failed(ECONNRESET) }
            return responseEnded && headSent ? .eof : .wouldBlock
        }
        if buffer.freeBytes < 1024 { buffer.compact() }
        let n = min(responseBytes.readableBytes, buffer.freeBytes)
        if n == 0 { return .wouldBlock }
        buffer.append(from: responseBytes, count: n)
        responseBytes.consume(n)
        if responseBytes.isEmpty { responseBytes.clear() }
        credit(readUpTo: readTotal + n)
        return .bytes(n)
    }

    private func credit(readUpTo position: Int) {
        readTotal = position
        var n = 0
        while creditsHead < credits.count && credits[creditsHead].end <= readTotal {
            n += credits[creditsHead].count
            creditsHead += 1
        }
        if creditsHead == credits.count {
            credits.removeAll(keepingCapacity: true)
            creditsHead = 0
        }
        guard n > 0, open else { return }
        uncredited -= n
        session.consume(self, n)
    }

    func write(from buffer: ByteBuffer) -> Socket.WriteResult {
        if closed || failed { return .failed(EPIPE) }
        var taken = 0
        if !headDone {
            let before = headBytes.count
            buffer.withReadableBytes { headBytes += $0 }
            switch headBytes.withUnsafeBytes({ parser.parse($0) }) {
            case .needMore:
                buffer.consume(buffer.readableBytes)
                return .wrote(headBytes.count - before)
            case .error:
                failed = true
                return .failed(EPROTO)
            case .complete(let end):
                guard submitHead() else { return .failed(EPIPE) }
                taken = end - before
                headBytes = []
                buffer.consume(taken)
            }
        }
        let n = takeBody(from: buffer)
        if taken + n == 0 { return .wouldBlock }
        return .wrote(taken + n)
    }

    /// The parsed head as the stream's HEADERS.
    private func submitHead() -> Bool {
        headDone = true
        let head = parser.head
        method = head.method
        requestFraming = head.framing
        var list: [(name: [UInt8], value: [UInt8])] = []
        headBytes.withUnsafeBytes { b in
            list.append((Array(":method".utf8), Array(b[head.start..<head.methodEnd])))
            list.append((Array(":scheme".utf8), Array("http".utf8)))
            let host = head.host.map { Array(b[$0.start..<$0.end]) } ?? session.pool.server.authorityBytes
            list.append((Array(":authority".utf8), host))
            list.append((Array(":path".utf8), Array(b[head.target.start..<head.target.end])))
            for h in head.headers {
                switch h.kind {
                case .host, .connection, .keepAlive, .proxyConnection, .transferEncoding, .upgrade, .trailer:
                    continue
                case .te:
                    if !ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: b[h.valueStart..<h.valueEnd]), "trailers") { continue }
                default:
                    break
                }
                list.append((b[h.lineStart..<h.nameEnd].map { ByteClass.lower($0) }, Array(b[h.valueStart..<h.valueEnd])))
            }
        }
        switch requestFraming {
        case .length(let n):
            requestRemaining = n
            requestDone = n == 0
        case .chunked:
            requestDecoder.reset()
        case .none, .untilClose:
            requestDone = true
        }
        parser.releaseMemory()
        return session.submit(self, list, body: !requestDone)
    }

    /// Body bytes into `requestBody` (decoded), as many as fit; how many input bytes were used.
    private func takeBody(from buffer: ByteBuffer) -> Int {
        guard !requestDone, !buffer.isEmpty else { return 0 }
        var used = 0
        switch requestFraming {
        case .length:
            let n = min(buffer.readableBytes, requestRemaining, requestBody.freeBytes)
            requestBody.append(from: buffer, count: n)
            buffer.consume(n)
            requestRemaining -= n
            used = n
            if requestRemaining == 0 { requestDone = true }
        case .chunked:
            var pos = 0
            loop: while true {
                let room = requestBody.freeBytes
                if room == 0 { break }
                let step = buffer.withReadableBytes { requestDecoder.decode($0, position: &pos, maxData: room) }
                switch step {
                case .data(let offset, let count):
                    buffer.withReadableBytes { requestBody.append(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
                case .done:
                    TrailerFields.forEach(requestDecoder.trailers) { name, value in
                        requestTrailers.append((name.map { ByteClass.lower($0) }, Array(value)))
                    }
                    requestDone = true
                    break loop
                case .needMore:
                    break loop
                case .error:
                    failed = true
                    break loop
                }
            }
            buffer.consume(pos)
            used = pos
        case .none, .untilClose:
            requestDone = true
        }
        if requestDeferred && (!requestBody.isEmpty || requestDone) {
            requestDeferred = false
            session.resume(self)
        }
        return used
    }

    func pendingError() -> Int32 { 0 }
    func shutdownWrite() {}

    /// The exchange is done with the stream: one that has not ended is cancelled.
    func close() {
        guard !closed else { return }
        closed = true
        wantsRead = false
        wantsWrite = false
        if id > 0 { session.cancel(self) }
        requestBody.release()
        responseBytes.clear()
        responseBytes.release()
    }

    // MARK: - the session's side (inside nghttp2's calls)

    func requestBody(into buf: UnsafeMutableRawBufferPointer, eof: inout Bool) -> Int? {
        let n = min(buf.count, requestBody.readableBytes)
        if n > 0 {
            requestBody.withReadableBytes { buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            requestBody.consume(n)
            if requestBody.isEmpty { requestBody.clear() }
            if wantsWrite { session.schedule(self) }
        }
        if requestBody.isEmpty && requestDone {
            eof = true
            requestBody.release()
            return n
        }
        if n == 0 {
            requestDeferred = true
            return nil
        }
        return n
    }

    func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if headSent {
            trailers.append((Array(name), Array(value)))
        } else if name.count == 7 && name.elementsEqual(":status".utf8) {
            status = Int(String(decoding: value, as: UTF8.self)) ?? 0
        } else if name.first != UInt8(ascii: ":") {
            fields.append((Array(name), Array(value)))
        }
    }

    func headersDone(endStream: Bool) {
        if !headSent {
            if status >= 100 && status < 200 {
                // 100 Continue and friends: relayed as they are, the final head follows.
                appendStatusLine()
                responseBytes.append("\r\n")
                writtenTotal = readTotal + responseBytes.readableBytes
                status = 0
                fields = []
                session.schedule(self)
                return
            }
            writeHead(endStream: endStream)
        }
        if endStream { ended() }
    }

    private func appendStatusLine() {
        responseBytes.append("HTTP/1.1 ")
        responseBytes.appendDecimal(status)
        responseBytes.append(" ")
        responseBytes.append(HTTPStatus.reason(status))
        responseBytes.append("\r\n")
    }

    private func writeHead(endStream: Bool) {
        headSent = true
        appendStatusLine()
        var hasLength = false
        var grpc = false
        for f in fields {
            if f.name.elementsEqual("content-length".utf8) { hasLength = true }
            if f.name.elementsEqual("content-type".utf8) && f.value.starts(with: "application/grpc".utf8) { grpc = true }
        }
        chunked = !hasLength && status != 204 && status != 304 && method != .head
        for f in fields {
            // A gRPC "trailers-only" answer (HEADERS that end the stream)
            // carries its status in the head: it goes to the trailers, where
            // gRPC clients read it.
            if grpc && endStream && chunked && f.name.starts(with: "grpc-".utf8) {
                trailers.append(f)
                continue
            }
            responseBytes.append(f.name)
            responseBytes.append(": ")
            responseBytes.append(f.value)
            responseBytes.append("\r\n")
        }
        fields = []
        if chunked { responseBytes.append("transfer-encoding: chunked\r\n") }
        responseBytes.append("connection: close\r\n\r\n")
        writtenTotal = readTotal + responseBytes.readableBytes
        session.schedule(self)
    }

    func data(_ bytes: UnsafeRawBufferPointer) {
        guard headSent, !closed else {
            session.discarded(bytes.count)
            return
        }
        if chunked {
            responseBytes.appendHex(UInt64(bytes.count))
            responseBytes.append("\r\n")
        }
        responseBytes.append(bytes)
        if chunked { responseBytes.append("\r\n") }
        writtenTotal = readTotal + responseBytes.readableBytes
        uncredited += bytes.count
        credits.append((writtenTotal, bytes.count))
        if wantsRead { session.schedule(self) }
    }

    func ended() {
        guard !responseEnded else { return }
        responseEnded = true
        if chunked {
            responseBytes.append("0\r\n")
            for t in trailers {
                responseBytes.append(t.name)
                responseBytes.append(": ")
                responseBytes.append(t.value)
                responseBytes.append("\r\n")
            }
            responseBytes.append("\r\n")
        }
        trailers = []
        writtenTotal = readTotal + responseBytes.readableBytes
        session.schedule(self)
    }

    /// The session opened the stream.
    func opened(_ id: Int32) {
        self.id = id
        open = true
    }

    /// The stream closed (done; reset by the server or by us; refused after
    /// a GOAWAY; the session failed), failed unless its response ended.
    /// Returns the bytes the connection's window still owes (credited now).
    func closedBySession() -> Int {
        if !responseEnded || !headSent { failed = true }
        open = false
        requestDone = true
        let owed = uncredited
        uncredited = 0
        credits.removeAll()
        creditsHead = 0
        session.schedule(self)
        return owed
    }
}

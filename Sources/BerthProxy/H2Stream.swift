import BerthHTTP
#if canImport(Glibc)
import Glibc
#endif

/// One request stream of an `H2Connection`, served by an inner
/// `ClientConnection` that sees an HTTP/1.1 exchange: the stream's HEADERS
/// become a request head (`:authority` as Host; a body without a length is
/// sent chunked), its DATA the body; the inner connection's HTTP/1.1
/// response is parsed back into the stream's response HEADERS and DATA.
/// Both directions are bounded: request DATA is credited to the client's
/// flow-control window only as the inner connection reads it, and the inner
/// connection may write only while the response buffer has room.
final class H2Stream {
    private(set) var id: Int32
    /// The connection this stream is on, unretained (it holds the stream in
    /// its table while the stream is open), reached through `withConnection`:
    /// borrowed for a call, without the retain and release that an
    /// `unowned(unsafe)` reference costs at each use.
    private var connectionRef: Unmanaged<H2Connection>

    /// Runs `body` with the stream's connection.
    @inline(__always) func withConnection<R>(_ body: (H2Connection) -> R) -> R {
        connectionRef._withUnsafeGuaranteedRef(body)
    }
    /// Queued in the connection's ready list.
    var queued = false

    private enum Phase { case headers, open, closed }
    private var phase = Phase.headers
    // Request side
    private var pathRange = 0..<0
    private var authorityRange = 0..<0
    private var method = HTTPMethod.other
    private var methodRange = 0..<0
    /// The request line (and Host) went into `requestBytes`; fields follow it there.
    private var lineWritten = false
    private var hostWritten = false
    private var headerCount = 0
    private var hasContentLength = false
    private var chunked = false
    /// The HTTP/1.1 bytes for the inner connection (head, then body).
    let requestBytes: ByteBuffer
    /// Request body bytes received and not yet credited back.
    private var uncredited = 0
    private(set) var requestComplete = false
    /// The client reset the stream (or the connection went).
    private(set) var reset = false
    // Response side
    private var responseParser: ResponseHeadParser
    private var responseHead: [UInt8] = []
    private var responseStarted = false
    private var responseFraming: BodyFraming = .none
    private var responseRemaining = 0
    private var decoder = ChunkedDecoder()
    let responseBody: ByteBuffer
    /// A chunked response's trailer fields, sent as a trailing HEADERS frame (gRPC's grpc-status).
    private(set) var responseTrailers: [(name: [UInt8], value: [UInt8])] = []
    private var responseDone = false {
        didSet { if responseDone && !oldValue { innerTransport?.readable() } }
    }
    /// The whole response went to the inner connection's reader: its request may end now.
    var responseFinished: Bool { responseStarted && responseDone }
    private var deferred = false
    /// The inner connection and its transport.
    private(set) var inner: ClientConnection?
    private var innerTransport: H2StreamTransport?
    private var headerTooLarge = false

    init(id: Int32, connection: H2Connection) {
        self.id = id
        connectionRef = Unmanaged.passUnretained(connection)
        requestBytes = ByteBuffer(pool: connection.worker.buffers)
        responseBody = ByteBuffer(pool: connection.worker.buffers)
        responseParser = ResponseHeadParser(maxHeadSize: connection.worker.settings.maxHeadSize)
    }

    /// Ended, with nothing of it left to do (the worker may recycle it).
    var isClosed: Bool { phase == .closed && inner == nil && innerTransport == nil }

    /// A recycled stream takes the next one: every field back to what
    /// `init` leaves, its buffers holding no memory.
    func reuse(id: Int32, connection: H2Connection) {
        self.id = id
        connectionRef = Unmanaged.passUnretained(connection)
        queued = false
        phase = .headers
        pathRange = 0..<0
        authorityRange = 0..<0
        method = .other
        methodRange = 0..<0
        lineWritten = false
        hostWritten = false
        headerCount = 0
        hasContentLength = false
        chunked = false
        requestBytes.clear()
        requestBytes.release()
        uncredited = 0
        requestComplete = false
        reset = false
        let maxHead = connection.worker.settings.maxHeadSize
        if responseParser.maxHeadSize == maxHead { responseParser.reset() } else { responseParser = ResponseHeadParser(maxHeadSize: maxHead) }
        responseHead = []
        responseStarted = false
        responseFraming = .none
        responseRemaining = 0
        decoder.reset()
        responseBody.clear()
        responseBody.release()
        responseTrailers = []
        inner = nil
        innerTransport = nil
        responseDone = false
        deferred = false
        headerTooLarge = false
    }

    // MARK: - request (from the session's callbacks)

    func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        headerCount += name.count + value.count + 32
        if headerCount > withConnection({ $0.worker.settings.maxHeadSize }) {
            headerTooLarge = true
            return true  // answered 431 once the head is complete
        }
        if name.first == UInt8(ascii: ":") {
            if ByteClass.equalsLowercase(name, ":method") {
                method = HTTPMethod.classify(value)
                methodRange = keepPseudo(value)
            } else if ByteClass.equalsLowercase(name, ":path") {
                pathRange = keepPseudo(value)
            } else if ByteClass.equalsLowercase(name, ":authority") {
                authorityRange = keepPseudo(value)
            }
            return true
        }
        if !lineWritten { writeRequestLine() }
        let kind = KnownHeader.classify(name)
        // Connection-specific fields are not HTTP/2's (nghttp2 refuses most); TE only as trailers.
        if kind == .host {
            // Host stands in for a missing :authority.
            if !hostWritten { appendField("host", value) }
            hostWritten = true
            return true
        }
        if kind == .te {
            // The only TE HTTP/2 allows (nghttp2 checks it): gRPC servers want it.
            if ByteClass.equalsLowercase(value, "trailers") { requestBytes.append("te: trailers\r\n") }
            return true
        }
        if kind.isHopByHop { return true }
        if kind == .contentLength { hasContentLength = true }
        requestBytes.append(name)
        requestBytes.append(": ")
        requestBytes.append(value)
        requestBytes.append("\r\n")
        return true
    }

    private func keepPseudo(_ value: UnsafeRawBufferPointer) -> Range<Int> {
        withConnection { c in
            let start = c.pseudo.readableBytes
            c.pseudo.append(value)
            return start..<c.pseudo.readableBytes
        }
    }

    private func appendField(_ name: StaticString, _ value: UnsafeRawBufferPointer) {
        requestBytes.append(name)
        requestBytes.append(": ")
        requestBytes.append(value)
        requestBytes.append("\r\n")
    }

    /// `METHOD PATH HTTP/1.1` and Host from `:authority`, once the pseudo-headers are in.
    private func writeRequestLine() {
        lineWritten = true
        withConnection { c in
            c.pseudo.withReadableBytes { p in
                requestBytes.append(UnsafeRawBufferPointer(rebasing: p[methodRange]))
                requestBytes.append(byte: 0x20)
                if pathRange.isEmpty { requestBytes.append(byte: UInt8(ascii: "/")) } else { requestBytes.append(UnsafeRawBufferPointer(rebasing: p[pathRange])) }
                requestBytes.append(" HTTP/1.1\r\n")
                if !authorityRange.isEmpty {
                    appendField("host", UnsafeRawBufferPointer(rebasing: p[authorityRange]))
                    hostWritten = true
                }
            }
            c.pseudo.clear()
        }
    }

    func headersDone(endStream: Bool) {
        guard phase == .headers else { return }
        phase = .open
        if endStream { requestComplete = true }
        if headerTooLarge {
            requestBytes.clear()
            requestBytes.release()
            var headers = H2HeaderList(capacity: 32, fields: 2)
            headers.appendStatus(431)
            headers.append("content-length", "0")
            withConnection { $0.respond(self, headers: &headers, body: false) }
            return
        }
        if !lineWritten { writeRequestLine() }
        if !hostWritten { requestBytes.append("host: \r\n") }
        chunked = !endStream && !hasContentLength
        if chunked { requestBytes.append("transfer-encoding: chunked\r\n") }
        requestBytes.append("\r\n")
        let t = H2StreamTransport(stream: self)
        innerTransport = t
        inner = withConnection { c in c.worker.adoptStream(peer: c.peer, overTLS: c.tls != nil, transport: t) }
    }

    func body(_ bytes: UnsafeRawBufferPointer) {
        guard inner != nil, !reset else {
            withConnection { $0.consume(self, bytes.count) }
            return
        }
        if chunked {
            requestBytes.appendHex(UInt64(bytes.count))
            requestBytes.append("\r\n")
            requestBytes.append(bytes)
            requestBytes.append("\r\n")
        } else {
            requestBytes.append(bytes)
        }
        uncredited += bytes.count
        innerTransport?.readable()
    }

    func requestEnded() {
        requestComplete = true
        if chunked { requestBytes.append("0\r\n\r\n") }
        innerTransport?.readable()
    }

    func resetByClient() {
        reset = true
        innerTransport?.peerGone()
    }

    // MARK: - the inner connection's side (its transport)

    /// The inner connection read `n` bytes: credit the body part of them.
    func innerRead(_ n: Int) {
        let credit = min(n, uncredited)
        uncredited -= credit
        withConnection { $0.consume(self, credit) }
    }

    /// Takes response bytes written by the inner connection; how many were taken.
    func innerWrote(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard phase == .open, !reset else { return bytes.count }  // nobody to tell: swallow
        if responseStarted { return decodeBody(bytes) }
        // A head usually comes whole in one write: parsed where it is, and
        // copied only when it is not complete yet.
        let carried = responseHead.count
        let result: HeadParseResult
        if carried == 0 {
            result = responseParser.parse(bytes)
            if case .needMore = result { responseHead += bytes }
        } else {
            responseHead += bytes
            result = responseHead.withUnsafeBytes { responseParser.parse($0) }
        }
        switch result {
        case .needMore:
            return bytes.count
        case .error:
            withConnection { $0.reset(self) }
            return bytes.count
        case .complete(let end):
            let used = end - carried  // the head's bytes in this write
            if responseParser.head.isInformational {
                // 100 Continue and friends: not relayed; the final head may follow in this write.
                responseHead = []
                responseParser.reset()
                return innerWroteRest(bytes, from: used)
            }
            if carried == 0 {
                startResponse(responseParser.head, bytes, chunkedBody: false)
            } else {
                let whole = responseHead
                responseHead = []
                whole.withUnsafeBytes { startResponse(responseParser.head, $0, chunkedBody: false) }
            }
            return used + decodeBody(UnsafeRawBufferPointer(rebasing: bytes[used...]))
        }
    }

    private func innerWroteRest(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        if from >= bytes.count { return bytes.count }
        return from + innerWrote(UnsafeRawBufferPointer(rebasing: bytes[from...]))
    }

    /// Whether the inner connection may hand its final response head over
    /// parsed (`startResponse`): nothing of a head was written before it.
    var takesHeadDirectly: Bool { phase == .open && !reset && !responseStarted && responseHead.isEmpty }

    /// The response head: from the inner connection (the upstream's head as
    /// parsed, `chunkedBody` when its body comes re-framed as chunks), or
    /// parsed here from what it wrote. `storage`: the bytes `head`'s offsets are into.
    func startResponse(_ head: ResponseHead, _ storage: UnsafeRawBufferPointer, chunkedBody: Bool) {
        responseStarted = true
        var headers = withConnection { $0.takeHeaderList() }
        headers.appendStatus(head.status)
        for h in head.headers where ResponseRewriter.forwards(h, of: head, storage, chunked: chunkedBody, upgrade: false) {
            if h.kind.isHopByHop { continue }
            headers.append(name: UnsafeRawBufferPointer(rebasing: storage[h.lineStart..<h.nameEnd]),
                           value: UnsafeRawBufferPointer(rebasing: storage[h.valueStart..<h.valueEnd]), lowercasingName: true)
        }
        responseFraming = chunkedBody ? .chunked : head.framing(for: method)
        switch responseFraming {
        case .length(let n):
            responseRemaining = n
            if n == 0 { responseDone = true }
        case .chunked:
            decoder.reset()
        case .untilClose:
            break
        case .none:
            responseDone = true
        }
        let body = !responseDone || responseFraming != .none
        withConnection { $0.respond(self, headers: &headers, body: body) }
    }

    /// Body bytes into `responseBody`, as many as fit; how many input bytes were used.
    private func decodeBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !responseDone, bytes.count > 0 else { return bytes.count }
        var used = 0
        switch responseFraming {
        case .length:
            let n = min(bytes.count, responseRemaining, responseBody.freeBytes)
            responseBody.append(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
            responseRemaining -= n
            used = n
            if responseRemaining == 0 { responseDone = true }
        case .chunked:
            var pos = 0
            loop: while pos < bytes.count {
                let room = responseBody.freeBytes
                if room == 0 { break }
                switch decoder.decode(bytes, position: &pos, maxData: room) {
                case .data(let offset, let count):
                    responseBody.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
                case .needMore:
                    break loop
                case .done:
                    TrailerFields.forEach(decoder.trailers) { name, value in
                        responseTrailers.append((name.map(ByteClass.lower), Array(value)))
                    }
                    responseDone = true
                    break loop
                case .error:
                    withConnection { $0.reset(self) }
                    return bytes.count
                }
            }
            used = pos
        case .untilClose:
            let n = min(bytes.count, responseBody.freeBytes)
            responseBody.append(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
            used = n
        case .none:
            return bytes.count
        }
        if deferred && (!responseBody.isEmpty || responseDone) {
            deferred = false
            withConnection { $0.resume(self) }
        }
        return used
    }

    /// The inner connection closed its side (after its response, or on an error).
    func innerClosed() {
        if responseFraming == .untilClose && responseStarted { responseDone = true }
        if !responseStarted || !responseDone {
            if !reset { withConnection { $0.reset(self) } }
        } else if deferred {
            deferred = false
            withConnection { $0.resume(self) }
        }
        inner = nil
        innerTransport = nil
    }

    /// Room in the response buffer for the inner connection's writes.
    var responseRoom: Int { responseStarted ? responseBody.freeBytes : Int.max }

    // MARK: - the session's side

    func responseBody(into buf: UnsafeMutableRawBufferPointer, eof: inout Bool) -> Int? {
        let n = min(buf.count, responseBody.readableBytes)
        if n > 0 {
            responseBody.withReadableBytes { buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            responseBody.consume(n)
            if responseBody.isEmpty { responseBody.clear() }
            innerTransport?.writable()
        }
        if responseBody.isEmpty && responseDone {
            eof = true
            responseBody.release()
            return n
        }
        if n == 0 {
            deferred = true
            return nil
        }
        return n
    }

    /// The session closed the stream (done, or reset either way).
    func closedBySession() {
        phase = .closed
        reset = true
        innerTransport?.peerGone()
        requestBytes.release()
        responseBody.release()
    }

    /// The HTTP/2 connection closed: the inner connection ends now (nothing can reach its client).
    func connectionClosed() {
        closedBySession()
        inner?.abort()
    }

    /// Runs the inner connection's pending event (from the connection's ready list).
    func deliver() {
        queued = false
        innerTransport?.deliver()
    }
}

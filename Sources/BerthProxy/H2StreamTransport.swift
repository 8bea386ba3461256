#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP

/// The in-memory wire between an `H2Stream` and its inner
/// `ClientConnection`: reads come from the stream's HTTP/1.1 request bytes,
/// writes go to the stream's response parser. Readiness is delivered by the
/// H2 connection's pump (never from inside nghttp2's calls), and a write is
/// taken only while the stream's response buffer has room.
final class H2StreamTransport: Transport {
    /// Strong: the stream lives while its inner connection may still call here
    /// (the stream drops this transport when the inner connection closes it).
    let stream: H2Stream
    /// The inner connection, unretained (it owns this transport). An event
    /// is delivered holding a reference (the connection may close and leave
    /// the worker's registry inside it), called directly, not through a
    /// protocol witness.
    private var inner: Unmanaged<ClientConnection>?

    /// The connection this transport serves (before its first event).
    func attach(_ connection: ClientConnection) { inner = .passUnretained(connection) }
    private(set) var wantsRead = false
    private(set) var wantsWrite = false
    private var closed = false
    private var gone = false
    private var pendingRead = false

    init(stream: H2Stream) { self.stream = stream }

    func set(read: Bool, write: Bool) {
        wantsRead = read
        wantsWrite = write
        if (read && hasInput) || (write && hasRoom) { stream.withConnection { $0.schedule(stream) } }
    }

    /// An HTTP/2 request's end is not an HTTP/1.1 connection's end: the inner
    /// connection reads EOF only once its response is complete (then it closes).
    private var atEnd: Bool { stream.requestComplete && stream.responseFinished }
    private var hasInput: Bool { !stream.requestBytes.isEmpty || atEnd || gone || pendingRead }
    private var hasRoom: Bool { stream.responseRoom > 0 || gone }

    func feedRead() {
        pendingRead = true
        stream.withConnection { $0.schedule(stream) }
    }

    /// Request bytes arrived (or the request ended).
    func readable() { if wantsRead { stream.withConnection { $0.schedule(stream) } } }
    /// The session took response bytes: room again.
    func writable() { if wantsWrite { stream.withConnection { $0.schedule(stream) } } }
    /// The client reset the stream, or the connection closed.
    func peerGone() {
        gone = true
        stream.withConnection { $0.schedule(stream) }
    }

    /// Runs the inner connection's event, if it still wants one that is there.
    func deliver() {
        guard !closed else { return }
        let r = wantsRead && hasInput
        let w = wantsWrite && hasRoom
        pendingRead = false
        if r || w, let connection = inner?.takeUnretainedValue() { connection.ioReady(readable: r, writable: w) }
    }

    func read(into buffer: ByteBuffer) -> Socket.ReadResult {
        if gone { return .failed(ECONNRESET) }
        let src = stream.requestBytes
        if src.isEmpty { return atEnd ? .eof : .wouldBlock }
        if buffer.freeBytes < 1024 { buffer.compact() }
        let n = min(src.readableBytes, buffer.freeBytes)
        if n == 0 { return .wouldBlock }
        buffer.append(from: src, count: n)
        src.consume(n)
        if src.isEmpty { src.clear() }
        stream.innerRead(n)
        return .bytes(n)
    }

    func write(from buffer: ByteBuffer) -> Socket.WriteResult {
        if gone { return .failed(EPIPE) }
        let room = stream.responseRoom
        if room == 0 { return .wouldBlock }
        let n = buffer.withReadableBytes { b in stream.innerWrote(UnsafeRawBufferPointer(rebasing: b[0..<min(b.count, room)])) }
        if n == 0 { return .wouldBlock }
        buffer.consume(n)
        return .wrote(n)
    }

    func pendingError() -> Int32 { 0 }

    func shutdownWrite() {}

    func close() {
        guard !closed else { return }
        closed = true
        stream.innerClosed()
    }
}

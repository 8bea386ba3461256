#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP

/// Where one connection's bytes come from and go to, and which readiness
/// it waits for: the seam between a connection's logic and the wire. In
/// production it is a non-blocking socket watched by the worker's libev loop
/// (`SocketTransport`); tests drive the same connection logic through an
/// in-memory transport, with no socket and no loop. A transport calls its
/// handler's `ioReady` when a wanted event happens.
protocol Transport: AnyObject {
    var wantsRead: Bool { get }
    var wantsWrite: Bool { get }
    /// Sets which events to wait for; a no-op when nothing changes.
    func set(read: Bool, write: Bool)
    /// Delivers a read event soon, as if readable (bytes already decrypted inside OpenSSL).
    func feedRead()
    /// Reads what fits into `buffer`'s tail (compacting it first when the tail is short).
    func read(into buffer: ByteBuffer) -> Socket.ReadResult
    /// Writes as much of `buffer` as the wire takes, consuming what was sent.
    func write(from buffer: ByteBuffer) -> Socket.WriteResult
    /// The outcome of a non-blocking connect (0: connected).
    func pendingError() -> Int32
    /// Half-closes: no more bytes from us.
    func shutdownWrite()
    /// Stops waiting and closes.
    func close()
}

// The same three helpers as IOWatcher's, on purpose: sharing them through a
// base protocol made every call on the `Transport` existential dispatch twice
// (callgrind: +280 instructions per keep-alive request).
extension Transport {
    @inline(__always) func set(read: Bool) { set(read: read, write: wantsWrite) }
    @inline(__always) func set(write: Bool) { set(read: wantsRead, write: write) }
    func stop() { set(read: false, write: false) }
}

/// A non-blocking socket watched by the worker's loop.
final class SocketTransport: Transport {
    let fd: Int32
    private let watcher: IOWatcher
    /// Closed: the descriptor number may belong to another connection now,
    /// so nothing touches it again.
    private var closed = false

    init(fd: Int32, loop: EventLoop, handler: IOEventHandler) {
        self.fd = fd
        watcher = IOWatcher(loop: loop, fd: fd, handler: handler)
    }

    var wantsRead: Bool { watcher.wantsRead }
    var wantsWrite: Bool { watcher.wantsWrite }
    @inline(__always) func set(read: Bool, write: Bool) {
        if !closed { watcher.set(read: read, write: write) }
    }
    func feedRead() { if !closed { watcher.feedRead() } }
    @inline(__always) func read(into buffer: ByteBuffer) -> Socket.ReadResult {
        closed ? .failed(EBADF) : Socket.read(fd, into: buffer)
    }
    @inline(__always) func write(from buffer: ByteBuffer) -> Socket.WriteResult {
        closed ? .failed(EBADF) : Socket.write(fd, from: buffer)
    }
    func pendingError() -> Int32 { closed ? EBADF : Socket.pendingError(fd) }
    func shutdownWrite() { if !closed { Socket.shutdownWrite(fd) } }

    func close() {
        guard !closed else { return }
        closed = true
        watcher.stop()
        Socket.close(fd)
    }

    /// Stops watching and gives the descriptor up without closing it (another handler takes it).
    func detach() -> Int32 {
        closed = true
        watcher.stop()
        return fd
    }
}

#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP

/// One connection through a `link`: bytes both ways between the consumer's
/// client socket and a replica of the linked app, unchanged. Each direction
/// has one bounded buffer (a pool block, 64 KiB); a side is read only while the buffer
/// toward the other has room, so a slow reader slows its writer instead of
/// growing memory (backpressure both ways). An end of stream is passed on as
/// a half-close once its buffer is flushed; the pipe closes when both
/// directions ended, or at the first error (both sockets closed). The
/// buffers are the worker's pool blocks, held only while bytes are in them:
/// an idle link connection holds none.
final class LinkPipe {
    /// One of the pipe's two sockets and its watcher.
    final class Side: IOEventHandler {
        let fd: Int32
        var watcher: IOWatcher!
        unowned(unsafe) let pipe: LinkPipe
        /// Read to its end of stream.
        var eof = false
        /// Its write half was shut (the other side ended and all was sent).
        var shut = false
        /// May have bytes to read: set by a readable event, cleared when a
        /// read comes back short or would block (so no read is made just to
        /// learn there is nothing: a query and its answer cost one read and
        /// one write each way).
        var mayRead = true

        init(fd: Int32, pipe: LinkPipe, loop: EventLoop) {
            self.fd = fd
            self.pipe = pipe
            watcher = IOWatcher(loop: loop, fd: fd, handler: self)
        }

        func ioReady(readable: Bool, writable: Bool) {
            if readable { mayRead = true }
            pipe.pump()
        }
    }

    private(set) var client: Side!
    private(set) var upstream: Side!
    /// client → upstream, and upstream → client.
    private let up: ByteBuffer
    private let down: ByteBuffer
    /// The upstream connect has not completed yet.
    private var connecting: Bool
    private var closed = false
    private let onClose: (LinkPipe) -> Void

    init(client: Int32, upstream: Int32, connecting: Bool, loop: EventLoop, buffers: BufferPool,
         onClose: @escaping (LinkPipe) -> Void) {
        self.connecting = connecting
        up = ByteBuffer(pool: buffers)
        down = ByteBuffer(pool: buffers)
        self.onClose = onClose
        self.client = Side(fd: client, pipe: self, loop: loop)
        self.upstream = Side(fd: upstream, pipe: self, loop: loop)  // both have TCP_NODELAY from Socket.accept / connect
    }

    func start() { pump() }

    /// Moves what can move now, then waits for what it needs next.
    func pump() {
        guard !closed else { return }
        if connecting {
            // Writable means the connect finished; an error means the replica refused.
            var p = pollfd(fd: upstream.fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&p, 1, 0) == 1 else { return interest() }
            guard Socket.pendingError(upstream.fd) == 0 else { return close() }
            connecting = false
            upstream.mayRead = false
        }
        var moved = true
        while moved {
            moved = false
            switch transfer(from: client, to: upstream, through: up) {
            case .some(true): moved = true
            case .some(false): break
            case .none: return close()
            }
            switch transfer(from: upstream, to: client, through: down) {
            case .some(true): moved = true
            case .some(false): break
            case .none: return close()
            }
        }
        if client.eof && upstream.eof && up.isEmpty && down.isEmpty { return close() }
        interest()
    }

    /// Reads `from` into `buffer` while it has room, writes it to `to`, and
    /// passes an end of stream on. True when bytes moved; nil on an error.
    private func transfer(from: Side, to: Side, through buffer: ByteBuffer) -> Bool? {
        var moved = false
        if !from.eof && from.mayRead && buffer.freeBytes > 0 {
            let room = buffer.freeBytes
            switch Socket.read(from.fd, into: buffer) {
            case .bytes(let n):
                moved = n > 0
                if n < room { from.mayRead = false }  // drained what was there
            case .eof: from.eof = true
            case .wouldBlock: from.mayRead = false
            case .failed: return nil
            }
        }
        if !buffer.isEmpty {
            switch Socket.write(to.fd, from: buffer) {
            case .wrote(let n): moved = moved || n > 0
            case .wouldBlock: break
            case .failed: return nil
            }
        }
        if from.eof && buffer.isEmpty && !to.shut {
            Socket.shutdownWrite(to.fd)
            to.shut = true
        }
        return moved
    }

    private func interest() {
        up.release()  // no-ops while bytes wait
        down.release()
        client.watcher.set(read: !client.eof && up.freeBytes > 0, write: !down.isEmpty)
        if connecting {
            upstream.watcher.set(read: false, write: true)
        } else {
            upstream.watcher.set(read: !upstream.eof && down.freeBytes > 0, write: !up.isEmpty)
        }
    }

    /// Closes both sockets (an open side sees its peer go away).
    func close() {
        guard !closed else { return }
        closed = true
        client.watcher.stop()
        upstream.watcher.stop()
        Socket.close(client.fd)
        Socket.close(upstream.fd)
        up.release()
        down.release()
        onClose(self)
    }
}

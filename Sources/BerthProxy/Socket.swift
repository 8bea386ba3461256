#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP
import CBerthSystem

/// The non-blocking TCP calls the proxy makes, on plain descriptors.
enum Socket {
    enum ReadResult {
        case bytes(Int)
        case eof
        case wouldBlock
        case failed(Int32)
    }

    enum WriteResult {
        case wrote(Int)
        case wouldBlock
        case failed(Int32)
    }

    /// A listening socket; with `reusePort` several can share the address (one per worker).
    static func listen(_ address: SocketAddress, reusePort: Bool, backlog: Int32) throws(SocketError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .errno("socket") }
        setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if reusePort { setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
        let rc = address.withSockaddr { bind(fd, $0, $1) }
        if rc != 0 {
            let e = errno
            close(fd)
            throw .errno("bind \(address)", e)
        }
        if Glibc.listen(fd, backlog) != 0 {
            let e = errno
            close(fd)
            throw .errno("listen \(address)", e)
        }
        return fd
    }

    static func localPort(_ fd: Int32) -> Int {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return withUnsafeBytes(of: ss) { raw -> Int in
            let family = Int32(raw.load(as: sockaddr.self).sa_family)
            if family == AF_INET6 { return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)) }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    /// Accepts one connection; nil when none is pending (or on a transient error).
    /// `noDelayInherited`: the listener has TCP_NODELAY, which Linux copies
    /// to each accepted socket (one setsockopt less per connection).
    static func accept(_ listener: Int32, noDelayInherited: Bool = false) -> (fd: Int32, peer: [UInt8])? {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                cberth_accept_nonblocking(listener, $0, &len)
            }
        }
        if fd < 0 { return nil }
        if !noDelayInherited { setNoDelay(fd) }
        let peer = withUnsafePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress.numericHost($0) }
        }
        return (fd, peer)
    }

    /// Starts a non-blocking connect (from inside `netns` when given);
    /// `inProgress` means wait for writability.
    static func connect(_ address: SocketAddress, in netns: NetworkNamespace? = nil) -> (fd: Int32, inProgress: Bool)? {
        let fd: Int32
        if let netns {
            guard let s = netns.makeSocket(family: address.family) else { return nil }
            fd = s
        } else {
            fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        if fd < 0 { return nil }
        setNoDelay(fd)
        setOption(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, notSentLowWater)
        if address.isLoopback { setOption(fd, SOL_SOCKET, SO_RCVBUF, loopbackReceiveBuffer) }
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 { return (fd, false) }
        if errno == EINPROGRESS { return (fd, true) }
        close(fd)
        return nil
    }

    /// The result of a finished non-blocking connect (0 = connected).
    static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { return errno }
        return err
    }

    /// A `listen` line's socket (HTTP: the client speaks first): TCP_NODELAY,
    /// which every accepted socket inherits, and TCP_DEFER_ACCEPT (nginx's
    /// `deferred`, HAProxy's `defer-accept`): the kernel hands a connection
    /// over once its first bytes are there, so accepting it and reading its
    /// request is one wakeup, and the handshake's last ACK costs this
    /// process nothing. A connection that sends nothing is handed over after
    /// about a second anyway (then the header timeout runs).
    /// Accepted sockets inherit the listener's `notSentLowWater` too.
    static func prepareHTTPListener(_ fd: Int32) {
        setNoDelay(fd)
        setOption(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, notSentLowWater)
        setOption(fd, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, 1)  // seconds
    }

    static func setNoDelay(_ fd: Int32) {
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    /// An integer socket option, best effort (a kernel without it keeps its default).
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// At most this many bytes wait unsent in a proxied socket
    /// (TCP_NOTSENT_LOWAT): past it a write takes nothing and the socket is
    /// not writable. Without it a write fills the whole autotuned send
    /// buffer, and what the window cannot take yet goes out later from the
    /// context of the ACK that opens it: on loopback, the receiving
    /// process's CPU (wrk's or a backend's), which then does the proxy's
    /// transmit and delivery work too. With it, a 1 MiB response costs that
    /// CPU about 10 % less and berth's throughput rose about 15 % where that
    /// CPU is the bottleneck (peers.sh --mode large); the bytes in flight are
    /// not limited, only those queued behind them (less kernel memory per
    /// slow reader as well).
    static let notSentLowWater: Int32 = 64 << 10

    /// The receive buffer of an upstream connection to a loopback address
    /// (every container app, and `upstream 127.x`), set before connect so
    /// the window scale agrees. On loopback the round trip is microseconds,
    /// so the kernel's autotuning only lets the backend hand a whole
    /// response to this socket's queue at once: its transmit and the
    /// delivery into berth's socket then run on the backend's CPU, in its
    /// write. With a window of a few hundred KiB the backend waits for berth
    /// to read, and what it has queued is sent from the ACK berth's read
    /// sends, on berth's CPU (HAProxy's `tune.rcvbuf.server`; it bounds the
    /// kernel memory a slow client's upstream holds too). The work moves,
    /// it is not saved: peers.sh --mode large, where the CPU shared by wrk
    /// and the backend is the bottleneck and berth's had 40 % idle, one
    /// interleaved run: 1,402 → 1,601 req/s, berth's own CPU 415 → 498 µs
    /// per response, the backend's CPU less by about as much (256 KiB:
    /// 1,494 req/s; HAProxy 1,341 at 719 µs). The kernel doubles the value
    /// for its bookkeeping; remote upstreams keep autotuning (a fixed
    /// window would cap a long path's throughput).
    static let loopbackReceiveBuffer: Int32 = 192 << 10

    /// Reads what fits into `buffer`'s tail (compacting it first when the tail is short).
    @inline(__always)
    static func read(_ fd: Int32, into buffer: ByteBuffer) -> ReadResult {
        if buffer.isEmpty { buffer.clear() } else if buffer.writableBytes < 2048 { buffer.compact() }
        if buffer.writableBytes == 0 { return .bytes(0) }
        var result = ReadResult.wouldBlock
        _ = buffer.withWritableBytes { space -> Int in
            while true {
                // recv, not read: read(2) passes through the VFS first (3 % of a worker's CPU under load)
                let n = recv(fd, space.baseAddress, space.count, 0)
                if n > 0 { result = .bytes(n); return n }
                if n == 0 { result = .eof; return 0 }
                if errno == EINTR { continue }
                result = (errno == EAGAIN || errno == EWOULDBLOCK) ? .wouldBlock : .failed(errno)
                return 0
            }
        }
        return result
    }

    /// Writes as much of `buffer` as the socket takes, consuming what was sent.
    @inline(__always)
    static func write(_ fd: Int32, from buffer: ByteBuffer) -> WriteResult {
        while true {
            let n = buffer.withReadableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 {
                buffer.consume(n)
                return .wrote(n)
            }
            if errno == EINTR { continue }
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? .wouldBlock : .failed(errno)
        }
    }

    static func shutdownWrite(_ fd: Int32) { _ = shutdown(fd, Int32(SHUT_WR)) }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }
}

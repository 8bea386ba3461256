import CBerthSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking Unix stream socket on a path: the keeper listens on one,
/// serve connects to it; they talk in lines. Owns its descriptor.
public final class UnixSocket: @unchecked Sendable {
    public let fd: Int32
    private var pending = [UInt8]()
    private let closed = NSLock()
    private var isClosed = false

    public init(adopting fd: Int32) { self.fd = fd }

    /// Listens on `path` (a stale socket file there is replaced), mode 0600.
    public static func listen(_ path: String) throws(RuntimeError) -> UnixSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("socket: \(String(cString: strerror(errno)))") }
        unlink(path)
        let old = umask(0o177)
        defer { umask(old) }
        do throws(RuntimeError) {
            try withAddress(path) { a, n in bind(fd, a, n) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        guard Glibc.listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw RuntimeError("listen \(path): \(String(cString: strerror(errno)))")
        }
        return UnixSocket(adopting: fd)
    }

    /// Connects to `path`; throws when nobody listens there.
    public static func connect(_ path: String) throws(RuntimeError) -> UnixSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("socket: \(String(cString: strerror(errno)))") }
        do throws(RuntimeError) {
            try withAddress(path) { a, n in Glibc.connect(fd, a, n) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return UnixSocket(adopting: fd)
    }

    private static func withAddress(_ path: String, _ call: (UnsafePointer<sockaddr>, socklen_t) -> Int32) throws(RuntimeError) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw RuntimeError("socket path too long (\(bytes.count) bytes, at most \(capacity - 1)): \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { throw RuntimeError("\(path): \(String(cString: strerror(errno)))") }
    }

    /// The next connection (nil when the socket was closed).
    public func accept() -> UnixSocket? {
        while true {
            let c = cberth_accept_nonblocking(fd, nil, nil)
            if c >= 0 {
                // Blocking, like the listener (accept4 made it non-blocking).
                _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK)
                return UnixSocket(adopting: c)
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    /// Writes all of `text`; false when the peer is gone.
    @discardableResult
    public func send(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// The next line (without its LF); nil at EOF or on an error.
    public func readLine() -> String? {
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return line
            }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            pending.append(contentsOf: buf[..<n])
            if pending.count > 1 << 20 { return nil }  // no line is this long
        }
    }

    /// Makes reads fail after `seconds` without data.
    public func setReadTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Wakes a reader blocked on it (the descriptor stays until `close`).
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    public func close() {
        closed.lock()
        defer { closed.unlock() }
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    deinit { close() }
}

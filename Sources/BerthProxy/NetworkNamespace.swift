#if canImport(Glibc)
import Glibc
#endif
import CBerthSystem
import BerthConfig

/// A network namespace the proxy reaches upstreams in (a container's own).
/// The descriptor stays open for the namespace's life here, so the namespace
/// outlives a container restart's brief gap and the path is read once.
public final class NetworkNamespace: Sendable {
    public let path: String
    let fd: Int32

    /// `path` is `/proc/PID/ns/net` or a bind-mounted handle.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProxyError("cannot open network namespace \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Creates a TCP socket inside this namespace from the calling thread:
    /// enter, socket(), return to the thread's own namespace. A socket keeps
    /// the namespace it was made in, so connect() can follow outside.
    func makeSocket(family: Int32) -> Int32? {
        guard let home = ThreadNamespace.current else { return nil }
        guard cberth_setns_net(fd) == 0 else { return nil }
        let s = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let back = cberth_setns_net(home)
        precondition(back == 0, "cannot return to the worker's network namespace")
        return s >= 0 ? s : nil
    }
}

/// Each thread's own network namespace, opened once (per thread) so a worker
/// can always go back after creating a socket elsewhere.
enum ThreadNamespace {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in
            if let p { close(Int32(Int(bitPattern: p)) - 1) }
        }
        return k
    }()

    /// The calling thread's namespace descriptor (opened on first use).
    static var current: Int32? {
        if let p = pthread_getspecific(key) { return Int32(Int(bitPattern: p)) - 1 }
        let fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: Int(fd) + 1))
        return fd
    }
}

extension NetworkNamespace {
    /// Whether something accepts TCP on 127.0.0.1:`port` inside this namespace
    /// within `timeout` seconds (the readiness check for a starting replica).
    public func accepts(port: Int, timeout: Double) -> Bool {
        Self.accepts(port: port, in: self, timeout: timeout)
    }

    /// The same in `netns`, or in the host's namespace when it is nil.
    static func accepts(port: Int, in netns: NetworkNamespace?, timeout: Double) -> Bool {
        guard let address = try? SocketAddress(HostPort(host: "127.0.0.1", port: port)),
              let (fd, inProgress) = Socket.connect(address, in: netns) else { return false }
        defer { Socket.close(fd) }
        if !inProgress { return true }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return false }
        return Socket.pendingError(fd) == 0
    }
}

#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthRouting
import Synchronization

extension ProxyServer {
    /// Makes each listener in `netns` (socket() after setns, as for
    /// upstreams), then gives it to a worker, spread round-robin.
    public func openLinks(_ links: [LinkListen], in netns: String?) throws -> LinkHandle {
        let ns = try netns.map { try NetworkNamespace(path: $0) }
        var made: [(port: Int, fd: Int32)] = []
        do {
            for l in links {
                made.append((l.port, try Self.listen(port: l.port, in: ns)))
            }
        } catch {
            made.forEach { Socket.close($0.fd) }
            throw error
        }
        let workers = self.workers
        var ids: [Int] = []
        for (l, m) in zip(links, made) {
            let (id, w) = linkWorkers.withLock { s -> (Int, Int) in
                let id = s.nextID
                s.nextID += 1
                let w = workers.isEmpty ? 0 : id % workers.count
                s.byID[id] = w
                return (id, w)
            }
            guard w < workers.count else {
                Socket.close(m.fd)
                continue
            }
            workers[w].send(.openLink(id: id, fd: m.fd, app: l.app))
            ids.append(id)
        }
        return LinkHandle(ids: ids)
    }

    public func closeLinks(_ handle: LinkHandle) {
        let workers = self.workers
        for id in handle.ids {
            guard let w = linkWorkers.withLock({ $0.byID.removeValue(forKey: id) }), w < workers.count else { continue }
            workers[w].send(.closeLink(id: id))
        }
    }

    /// A listening socket on 127.0.0.1:`port` inside `ns` (the host's when nil).
    private static func listen(port: Int, in ns: NetworkNamespace?) throws -> Int32 {
        let address = try SocketAddress(HostPort(host: "127.0.0.1", port: port))
        // SO_REUSEPORT: the serve taking over (`berth upgrade`) opens the
        // same links before this one closes them.
        guard let ns else { return try Socket.listen(address, reusePort: true, backlog: 511) }
        guard let fd = ns.makeSocket(family: address.family) else {
            throw ProxyError("link 127.0.0.1:\(port): cannot make a socket in \(ns.path): \(String(cString: strerror(errno)))")
        }
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
        let rc = address.withSockaddr { bind(fd, $0, $1) }
        guard rc == 0, Glibc.listen(fd, 511) == 0 else {
            let e = errno
            Socket.close(fd)
            throw ProxyError("link 127.0.0.1:\(port) in \(ns.path): \(String(cString: strerror(e)))")
        }
        return fd
    }
}

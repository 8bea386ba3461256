import Testing
import BerthConfig
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// The options the proxy's sockets carry: a listener's, which each accepted
/// socket inherits, and an upstream connection's.
@Suite struct SocketTests {
    func option(_ fd: Int32, _ name: Int32) -> Int32 {
        var value: Int32 = -1
        var len = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, Int32(IPPROTO_TCP), name, &value, &len) == 0)
        return value
    }

    @Test func acceptedAndUpstreamSocketsLeaveLittleUnsentAndDoNotDelay() throws {
        let address = try SocketAddress(HostPort(host: "127.0.0.1", port: 0), passive: true)
        let listener = try Socket.listen(address, reusePort: false, backlog: 8)
        defer { Socket.close(listener) }
        Socket.prepareHTTPListener(listener)
        let port = Socket.localPort(listener)
        let (client, _) = try #require(Socket.connect(try SocketAddress(HostPort(host: "127.0.0.1", port: port))))
        defer { Socket.close(client) }
        // TCP_DEFER_ACCEPT: the connection is handed over once bytes came.
        #expect(send(client, "GET / HTTP/1.1\r\n\r\n", 18, 0) == 18)
        var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5_000) == 1)
        let server = try #require(Socket.accept(listener, noDelayInherited: true)).fd
        defer { Socket.close(server) }
        for fd in [server, client] {
            #expect(option(fd, TCP_NOTSENT_LOWAT) == Socket.notSentLowWater)
            #expect(option(fd, TCP_NODELAY) == 1)
        }
    }
}

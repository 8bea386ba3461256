import Testing
import BerthConfig
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// The options the proxy's sockets carry: a listener's, which each accepted
/// socket inherits, and an upstream connection's.
@Suite struct SocketTests {
    func option(_ fd: Int32, _ name: Int32, level: Int32 = Int32(IPPROTO_TCP)) -> Int32 {
        var value: Int32 = -1
        var len = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, level, name, &value, &len) == 0)
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
        // The upstream side (a loopback address) has its fixed receive
        // buffer (the kernel reports twice what was set); the accepted one
        // keeps the kernel's autotuned default.
        #expect(option(client, SO_RCVBUF, level: SOL_SOCKET) == 2 * Socket.loopbackReceiveBuffer)
        #expect(option(server, SO_RCVBUF, level: SOL_SOCKET) != 2 * Socket.loopbackReceiveBuffer)
    }

    @Test func loopbackAddressesAreTheLocalOnes() throws {
        func loopback(_ host: String) throws -> Bool {
            try SocketAddress(HostPort(host: host, port: 80)).isLoopback
        }
        #expect(try loopback("127.0.0.1"))
        #expect(try loopback("127.200.3.4"))
        #expect(try loopback("::1"))
        #expect(try loopback("::ffff:127.0.0.1"))
        #expect(try !loopback("10.0.0.1"))
        #expect(try !loopback("128.0.0.1"))
        #expect(try !loopback("::2"))
        #expect(try !loopback("::ffff:10.0.0.1"))
        #expect(try !loopback("fe80::1"))
    }
}

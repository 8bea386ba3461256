import Foundation
import BerthConfig
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// A server on 127.0.0.1 that takes each connection and resets it (SO_LINGER
/// 0) without a byte of answer: a replica killed as a request reached it.
/// With an `answer`, it first reads the request head, writes the answer, and
/// resets once the client sends more (a WebSocket replica killed mid-tunnel).
final class ResettingServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let answer: [UInt8]?
    /// Signalled once per connection reset.
    private let resets = DispatchSemaphore(value: 0)

    init(answer: String? = nil) throws {
        self.answer = answer.map { Array($0.utf8) }
        fd = try Socket.listen(SocketAddress(HostPort(host: "127.0.0.1", port: 0), passive: true), reusePort: false, backlog: 16)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)  // its thread blocks in accept
        port = Socket.localPort(fd)
        Thread.detachNewThread { [self] in acceptAndReset() }
    }

    /// Waits until `count` more connections were reset; false after `timeout`.
    func waitForResets(_ count: Int, timeout: Double = 5) -> Bool {
        (0..<count).allSatisfy { _ in resets.wait(timeout: .now() + timeout) == .success }
    }

    /// Ends the accept loop (its accept fails once the socket is shut down).
    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func acceptAndReset() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                close(fd)
                return
            }
            // Wait for the request, so the reset answers it rather than the connect.
            var byte: UInt8 = 0
            _ = recv(c, &byte, 1, 0)
            if let answer {
                var tail: [UInt8] = [byte]
                while !tail.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)), recv(c, &byte, 1, 0) == 1 { tail.append(byte) }
                _ = answer.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                _ = recv(c, &byte, 1, 0)
            }
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(c, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(c)
            resets.signal()
        }
    }
}

import BerthRuntime
import CBerthSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The old and the new serve of an upgrade, talking over one end each of a
/// SOCK_SEQPACKET socket pair: one message per line, descriptors beside
/// some (SCM_RIGHTS). When either process dies the other reads EOF at once,
/// so neither waits on a timer for a peer that is gone.
///
/// old → new: `sockets {layout}` + the listening sockets and the pid file's
/// locked descriptor; `bye` once the old one stopped accepting.
/// new → old: `hello PID`; `accepting` once its apps are adopted and routed,
/// or `failed REASON`; `done` once the pid file names it.
final class HandoverChannel: @unchecked Sendable {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }

    /// A connected pair: this end, and the end the new serve gets as fd 3.
    static func pair() throws(CLIError) -> (mine: HandoverChannel, theirs: Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw CLIError("socketpair: \(String(cString: strerror(errno)))")
        }
        return (HandoverChannel(fd: fds[0]), fds[1])
    }

    @discardableResult
    func send(_ message: String, fds: [Int32] = []) -> Bool {
        var text = message
        return text.withUTF8 { bytes in
            fds.withUnsafeBufferPointer { f in
                cberth_send_fds(fd, bytes.baseAddress, bytes.count, f.baseAddress, Int32(f.count)) == bytes.count
            }
        }
    }

    /// The next message and its descriptors; nil at EOF, on an error, or
    /// after `timeout` seconds.
    func receive(timeout: Double) -> (text: String, fds: [Int32])? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let end = Date().addingTimeInterval(timeout)
        while true {
            let r = poll(&p, 1, Int32(max(0, end.timeIntervalSinceNow) * 1000))
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return nil }
            break
        }
        var buf = [UInt8](repeating: 0, count: 65536)
        var fds = [Int32](repeating: -1, count: 250)
        var count: Int32 = 0
        let n = buf.withUnsafeMutableBytes { b in
            fds.withUnsafeMutableBufferPointer { f in cberth_recv_fds(fd, b.baseAddress, b.count, f.baseAddress, 250, &count) }
        }
        guard n > 0 else {
            for i in 0..<Int(count) { Glibc.close(fds[i]) }
            return nil
        }
        return (String(decoding: buf[..<n], as: UTF8.self), Array(fds[..<Int(count)]))
    }

    func close() { Glibc.close(fd) }
}

#if canImport(Glibc)
import Glibc
#endif
import BerthConfig

/// A resolved IPv4 or IPv6 socket address, stored by value.
struct SocketAddress: @unchecked Sendable, CustomStringConvertible {
    private(set) var storage = sockaddr_storage()
    private(set) var length: socklen_t = 0
    let description: String

    /// Resolves `hp` with getaddrinfo (numeric or by name, first result). An
    /// empty host means every IPv4 address (`0.0.0.0`) when `passive`.
    init(_ hp: HostPort, passive: Bool = false) throws(SocketError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        if passive { hints.ai_flags = AI_PASSIVE }
        var result: UnsafeMutablePointer<addrinfo>?
        let host: String? = hp.host.isEmpty ? (passive ? nil : "127.0.0.1") : hp.host
        let rc = getaddrinfo(host, String(hp.port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SocketError("cannot resolve \(hp): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        // Prefer IPv4 for a passive wildcard, like most servers' ":PORT".
        var chosen = first
        if host == nil {
            var p: UnsafeMutablePointer<addrinfo>? = first
            while let cur = p {
                if cur.pointee.ai_family == AF_INET { chosen = cur; break }
                p = cur.pointee.ai_next
            }
        }
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: chosen.pointee.ai_addr, count: Int(chosen.pointee.ai_addrlen)))
        }
        length = chosen.pointee.ai_addrlen
        description = hp.description
    }

    var family: Int32 { Int32(storage.ss_family) }

    /// 127.0.0.0/8 or ::1 (or ::ffff:127.x): a server on this machine, or
    /// a container's own loopback reached from inside its network namespace.
    var isLoopback: Bool {
        withSockaddr { addr, _ -> Bool in
            switch Int32(addr.pointee.sa_family) {
            case AF_INET:
                return addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr) >> 24 == 127
                }
            case AF_INET6:
                return addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 -> Bool in
                    withUnsafeBytes(of: sin6.pointee.sin6_addr) { b in
                        b.prefix(10).allSatisfy { $0 == 0 }
                            && (b[10] == 0 && b[11] == 0 && b[12...14].allSatisfy { $0 == 0 } && b[15] == 1  // ::1
                                || b[10] == 0xff && b[11] == 0xff && b[12] == 127)  // ::ffff:127.x
                    }
                }
            default:
                return false
            }
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    /// The numeric address of a peer (`inet_ntop`), as bytes for headers and logs.
    static func numericHost(_ addr: UnsafePointer<sockaddr>) -> [UInt8] {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(addr.pointee.sa_family) {
        case AF_INET:
            addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var a = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
            }
        case AF_INET6:
            addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                var a = sin6.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count))
            }
        default:
            return Array("unknown".utf8)
        }
        return text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
    }
}

/// A socket call that failed, with the reason in words.
struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
    static func errno(_ what: String, _ code: Int32 = Glibc.errno) -> SocketError {
        SocketError("\(what): \(String(cString: strerror(code)))")
    }
}

/// The header names the proxy reads or rewrites, recognised once at parse time
/// so later stages compare an enum, not bytes.
public enum KnownHeader: UInt8, Sendable {
    case other
    case host, contentLength, transferEncoding, connection, keepAlive, proxyConnection
    case te, upgrade, expect, trailer
    case xForwardedFor, xForwardedProto, xForwardedHost, xForwardedPrefix, xRequestId

    /// Hop-by-hop fields (RFC 9110 §7.6.1) that never cross the proxy as they are.
    public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .upgrade, .transferEncoding, .trailer:
            return true
        default: return false
        }
    }

    /// Recognises a field name case-insensitively. Length and first letter pick
    /// at most one candidate, so an unknown name costs a switch, not compares.
    public static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        let n = name.count
        guard n >= 2 && n <= 18 else { return .other }
        let candidate: KnownHeader
        switch (n, name[0] | 0x20) {
        case (2, 0x74): candidate = .te
        case (4, 0x68): candidate = .host
        case (6, 0x65): candidate = .expect
        case (7, 0x75): candidate = .upgrade
        case (7, 0x74): candidate = .trailer
        case (10, 0x63): candidate = .connection
        case (10, 0x6B): candidate = .keepAlive
        case (12, 0x78): candidate = .xRequestId
        case (14, 0x63): candidate = .contentLength
        case (15, 0x78): candidate = .xForwardedFor
        case (16, 0x70): candidate = .proxyConnection
        case (16, 0x78): candidate = .xForwardedHost
        case (17, 0x74): candidate = .transferEncoding
        case (17, 0x78): candidate = .xForwardedProto
        case (18, 0x78): candidate = .xForwardedPrefix
        default: return .other
        }
        return ByteClass.equalsLowercase(name, candidate.lowercaseName) ? candidate : .other
    }

    var lowercaseName: StaticString {
        switch self {
        case .other: return ""
        case .host: return "host"
        case .contentLength: return "content-length"
        case .transferEncoding: return "transfer-encoding"
        case .connection: return "connection"
        case .keepAlive: return "keep-alive"
        case .proxyConnection: return "proxy-connection"
        case .te: return "te"
        case .upgrade: return "upgrade"
        case .expect: return "expect"
        case .trailer: return "trailer"
        case .xForwardedFor: return "x-forwarded-for"
        case .xForwardedProto: return "x-forwarded-proto"
        case .xForwardedHost: return "x-forwarded-host"
        case .xForwardedPrefix: return "x-forwarded-prefix"
        case .xRequestId: return "x-request-id"
        }
    }
}

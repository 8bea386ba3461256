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

    public static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        switch name.count {
        case 2: return ByteClass.equalsLowercase(name, "te") ? .te : .other
        case 4: return ByteClass.equalsLowercase(name, "host") ? .host : .other
        case 6: return ByteClass.equalsLowercase(name, "expect") ? .expect : .other
        case 7:
            if ByteClass.equalsLowercase(name, "upgrade") { return .upgrade }
            if ByteClass.equalsLowercase(name, "trailer") { return .trailer }
        case 10:
            if ByteClass.equalsLowercase(name, "connection") { return .connection }
            if ByteClass.equalsLowercase(name, "keep-alive") { return .keepAlive }
        case 12: return ByteClass.equalsLowercase(name, "x-request-id") ? .xRequestId : .other
        case 14: return ByteClass.equalsLowercase(name, "content-length") ? .contentLength : .other
        case 15: return ByteClass.equalsLowercase(name, "x-forwarded-for") ? .xForwardedFor : .other
        case 16:
            if ByteClass.equalsLowercase(name, "proxy-connection") { return .proxyConnection }
            if ByteClass.equalsLowercase(name, "x-forwarded-host") { return .xForwardedHost }
        case 17:
            if ByteClass.equalsLowercase(name, "transfer-encoding") { return .transferEncoding }
            if ByteClass.equalsLowercase(name, "x-forwarded-proto") { return .xForwardedProto }
        case 18: return ByteClass.equalsLowercase(name, "x-forwarded-prefix") ? .xForwardedPrefix : .other
        default: break
        }
        return .other
    }
}

/// Request methods the proxy treats specially; anything else is `.other`.
public enum HTTPMethod: UInt8, Sendable {
    case get, head, post, put, delete, options, patch, trace, connect, other

    /// RFC 9110 §9.2.2: a retry on a fresh connection cannot change the outcome.
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: return true
        default: return false
        }
    }

    public static func classify(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        switch bytes.count {
        case 3:
            if equals(bytes, "GET") { return .get }
            if equals(bytes, "PUT") { return .put }
        case 4:
            if equals(bytes, "POST") { return .post }
            if equals(bytes, "HEAD") { return .head }
        case 5:
            if equals(bytes, "PATCH") { return .patch }
            if equals(bytes, "TRACE") { return .trace }
        case 6:
            if equals(bytes, "DELETE") { return .delete }
        case 7:
            if equals(bytes, "OPTIONS") { return .options }
            if equals(bytes, "CONNECT") { return .connect }
        default: break
        }
        return .other
    }

    /// Methods are case-sensitive (RFC 9110 §9.1).
    private static func equals(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        let p = s.utf8Start
        for i in 0..<bytes.count where bytes[i] != p[i] { return false }
        return true
    }
}

/// The two HTTP versions spoken on the wire.
public enum HTTPVersion: UInt8, Sendable {
    case http10, http11
}

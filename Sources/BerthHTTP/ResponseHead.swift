/// A parsed response head, in the same offsets-not-copies form as `RequestHead`.
public struct ResponseHead: Sendable {
    public var version: HTTPVersion = .http11
    public var status = 0
    /// Offset just past the status line's CRLF.
    public var statusLineEnd = 0
    public var headers: [HeaderField] = []
    public var semantics = MessageSemantics()
    public var end = 0

    public init() {}

    /// Whether the upstream will keep the connection open after this response.
    public var keepAlive: Bool {
        if semantics.connectionClose { return false }
        return version == .http11 || semantics.connectionKeepAlive
    }

    public var isInformational: Bool { status >= 100 && status < 200 }

    /// RFC 9112 §6.3: how this response's body is delimited, given the request method.
    public func framing(for method: HTTPMethod) -> BodyFraming {
        if method == .head || isInformational || status == 204 || status == 304 { return .none }
        if semantics.hasTransferEncoding { return .chunked }
        if semantics.contentLength >= 0 { return semantics.contentLength == 0 ? .none : .length(semantics.contentLength) }
        return .untilClose
    }
}

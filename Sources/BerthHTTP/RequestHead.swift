/// A parsed request head: offsets into the bytes it was parsed from, plus what
/// its headers mean. Valid only while those bytes are kept unchanged.
public struct RequestHead: Sendable {
    public var method: HTTPMethod = .get
    public var version: HTTPVersion = .http11
    /// Offset of the method's first byte (after any leading empty lines).
    public var start = 0
    public var methodEnd = 0
    public var target = ByteRange(start: 0, end: 0)
    /// The path of the target (no scheme, authority or query). May be empty
    /// for an absolute-form target like `http://host`, meaning `/`.
    public var path = ByteRange(start: 0, end: 0)
    /// The authority of an absolute-form target, if any (it overrides Host).
    public var authority: ByteRange?
    public var headers: [HeaderField] = []
    public var semantics = MessageSemantics()
    /// Offset just past the empty line that ends the head.
    public var end = 0
    public var framing: BodyFraming = .none

    public init() {}

    /// Whether the connection may carry another request after this one.
    public var keepAlive: Bool {
        if semantics.connectionClose { return false }
        return version == .http11 || semantics.connectionKeepAlive
    }

    /// An `Upgrade` request (WebSocket and the like): Connection lists upgrade
    /// and an Upgrade field is present.
    public var isUpgrade: Bool { semantics.connectionUpgrade && semantics.upgradeIndex >= 0 }

    /// The Host to route by: the absolute-form authority, else the Host field.
    public var host: ByteRange? {
        if let authority { return authority }
        guard semantics.hostIndex >= 0 else { return nil }
        let h = headers[semantics.hostIndex]
        return ByteRange(start: h.valueStart, end: h.valueEnd)
    }

    /// The query part of the target including its `?`, possibly empty.
    public var query: ByteRange { ByteRange(start: path.end, end: target.end) }
}

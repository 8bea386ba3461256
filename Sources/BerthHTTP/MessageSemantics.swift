/// What the framing and connection headers of one message say, gathered line
/// by line and checked as a whole once the head is complete. Conflicts that
/// enable request smuggling are errors here, never guesses.
public struct MessageSemantics: Sendable {
    public var contentLength = -1
    public var hasTransferEncoding = false
    public var connectionClose = false
    public var connectionKeepAlive = false
    public var connectionUpgrade = false
    /// Names listed in Connection, whose fields are hop-by-hop too.
    public var connectionTokens: [ByteRange] = []
    public var hostIndex = -1
    public var hostCount = 0
    public var upgradeIndex = -1
    public var expectContinue = false
    /// `TE: trailers`: the client takes a chunked response's trailer section.
    public var acceptsTrailers = false
    var expectOther = false
    var lastCodingIsChunked = false
    var chunkedCount = 0
    var otherCodings = false

    public init() {}

    mutating func reset() {
        contentLength = -1
        hasTransferEncoding = false
        connectionClose = false
        connectionKeepAlive = false
        connectionUpgrade = false
        if !connectionTokens.isEmpty { connectionTokens.removeAll(keepingCapacity: true) }
        hostIndex = -1
        hostCount = 0
        upgradeIndex = -1
        expectContinue = false
        acceptsTrailers = false
        expectOther = false
        lastCodingIsChunked = false
        chunkedCount = 0
        otherCodings = false
    }

    mutating func absorb(_ f: HeaderField, index: Int, _ buf: UnsafeRawBufferPointer) throws(HTTPParseError) {
        switch f.kind {
        case .contentLength:
            try absorbContentLength(f, buf)
        case .transferEncoding:
            hasTransferEncoding = true
            try HeaderLine.forEachElement(buf, f.valueStart, f.valueEnd) { (s: Int, e: Int) throws(HTTPParseError) in
                if ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: buf[s..<e]), "chunked") {
                    chunkedCount += 1
                    lastCodingIsChunked = true
                } else {
                    otherCodings = true
                    lastCodingIsChunked = false
                }
            }
        case .connection:
            try HeaderLine.forEachElement(buf, f.valueStart, f.valueEnd) { (s: Int, e: Int) throws(HTTPParseError) in
                let token = UnsafeRawBufferPointer(rebasing: buf[s..<e])
                if ByteClass.equalsLowercase(token, "close") {
                    connectionClose = true
                } else if ByteClass.equalsLowercase(token, "keep-alive") {
                    connectionKeepAlive = true
                } else if ByteClass.equalsLowercase(token, "upgrade") {
                    connectionUpgrade = true
                } else {
                    connectionTokens.append(ByteRange(start: s, end: e))
                }
            }
        case .host:
            hostCount += 1
            hostIndex = index
        case .upgrade:
            upgradeIndex = index
        case .te:
            try HeaderLine.forEachElement(buf, f.valueStart, f.valueEnd) { (s: Int, e: Int) throws(HTTPParseError) in
                if ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: buf[s..<e]), "trailers") { acceptsTrailers = true }
            }
        case .expect:
            if ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: buf[f.valueStart..<f.valueEnd]), "100-continue") {
                expectContinue = true
            } else {
                expectOther = true
            }
        default:
            break
        }
    }

    /// `Content-Length: 5` or `5, 5`; every value seen must be the same number.
    private mutating func absorbContentLength(_ f: HeaderField, _ buf: UnsafeRawBufferPointer) throws(HTTPParseError) {
        if f.valueStart == f.valueEnd { throw .invalidContentLength }
        var sawOne = false
        try HeaderLine.forEachElement(buf, f.valueStart, f.valueEnd) { (s: Int, e: Int) throws(HTTPParseError) in
            if e - s > 15 { throw .invalidContentLength }
            var v = 0
            for i in s..<e {
                let c = buf[i]
                guard c >= 0x30 && c <= 0x39 else { throw .invalidContentLength }
                v = v * 10 + Int(c - 0x30)
            }
            if contentLength >= 0 && contentLength != v { throw .conflictingContentLength }
            contentLength = v
            sawOne = true
        }
        if !sawOne { throw .invalidContentLength }
    }

    /// The checks that need the whole head: TE versus CL and the coding list.
    func validateFraming() throws(HTTPParseError) {
        guard hasTransferEncoding else { return }
        if contentLength >= 0 { throw .contentLengthWithTransferEncoding }
        if !lastCodingIsChunked { throw .chunkedNotLast }
        if chunkedCount > 1 { throw .chunkedTwice }
        if otherCodings { throw .unsupportedTransferCoding }
    }
}

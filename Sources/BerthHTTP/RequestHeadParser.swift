/// An incremental, allocation-free (after warm-up) parser of request heads.
/// Feed it the buffered bytes from the head's first byte on, as often as more
/// arrive; it resumes at the line where it stopped. Strict by design: anything
/// RFC 9112 lets a recipient reject, and every known smuggling vector, is an error.
public struct RequestHeadParser: Sendable {
    public private(set) var head = RequestHead()
    public let maxHeadSize: Int
    public let maxHeaders: Int
    private var lines = LineScanner()
    private var sawRequestLine = false

    /// Drops the parsed head's arrays (an idle connection keeps no memory
    /// for a head it may never get); the next parse allocates again.
    public mutating func releaseMemory() {
        head = RequestHead()
    }

    public init(maxHeadSize: Int = 32 * 1024, maxHeaders: Int = 128) {
        self.maxHeadSize = maxHeadSize
        self.maxHeaders = maxHeaders
    }

    /// Forgets the previous head; call before parsing the next request.
    public mutating func reset() {
        lines.reset()
        sawRequestLine = false
        if !head.headers.isEmpty { head.headers.removeAll(keepingCapacity: true) }
        head.semantics.reset()
        head.authority = nil
        head.start = 0
    }

    public mutating func parse(_ buf: UnsafeRawBufferPointer) -> HeadParseResult {
        do {
            return try parseLines(buf)
        } catch {
            return .error(error)
        }
    }

    private mutating func parseLines(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult {
        while let (lineStart, lineEnd) = try lines.nextLine(
            buf, headStart: head.start, maxHeadSize: maxHeadSize,
            tooLarge: sawRequestLine ? .headTooLarge : .requestLineTooLong) {
            if !sawRequestLine {
                if lineEnd == lineStart {
                    // RFC 9112 §2.2: ignore a few empty lines before the request line.
                    if lines.position > 8 { throw .invalidRequestLine }
                    head.start = lines.position
                    continue
                }
                try parseRequestLine(buf, lineStart, lineEnd)
                sawRequestLine = true
            } else if lineEnd == lineStart {
                head.end = lines.position
                try finish(buf)
                return .complete(consumed: lines.position)
            } else {
                try HeaderLine.absorb(buf, start: lineStart, end: lineEnd, lineEnd: lines.position,
                                      maxHeaders: maxHeaders, into: &head.headers, &head.semantics)
            }
        }
        return .needMore
    }

    private mutating func parseRequestLine(_ buf: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTPParseError) {
        var i = start
        while i < end && ByteClass.isToken(buf[i]) { i += 1 }
        guard i < end, i > start else { throw .invalidMethod }
        if buf[i] == 0x0D { throw .bareCR }
        guard buf[i] == 0x20 else { throw .invalidMethod }
        head.methodEnd = i
        head.method = HTTPMethod.classify(UnsafeRawBufferPointer(rebasing: buf[start..<i]))
        let targetStart = i + 1
        // The version is everything after the last space.
        var lastSpace = end - 1
        while lastSpace > targetStart && buf[lastSpace] != 0x20 { lastSpace -= 1 }
        guard lastSpace > targetStart else { throw .invalidRequestLine }
        for j in targetStart..<lastSpace {
            let c = buf[j]
            if !ByteClass.isTarget(c) { throw c == 0x0D ? .bareCR : .invalidTarget }
        }
        head.version = try Self.parseVersion(buf, lastSpace + 1, end)
        if head.method == .connect { throw .connectNotSupported }
        head.target = ByteRange(start: targetStart, end: lastSpace)
        try parseTarget(buf)
    }

    static func parseVersion(_ buf: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) -> HTTPVersion {
        for j in s..<e where buf[j] == 0x0D { throw .bareCR }
        guard e - s == 8,
              buf[s] == UInt8(ascii: "H"), buf[s + 1] == UInt8(ascii: "T"), buf[s + 2] == UInt8(ascii: "T"),
              buf[s + 3] == UInt8(ascii: "P"), buf[s + 4] == UInt8(ascii: "/"), buf[s + 6] == UInt8(ascii: "."),
              (0x30...0x39).contains(buf[s + 5]), (0x30...0x39).contains(buf[s + 7])
        else { throw .invalidVersion }
        guard buf[s + 5] == UInt8(ascii: "1") else { throw .unsupportedVersion }
        switch buf[s + 7] {
        case UInt8(ascii: "1"): return .http11
        case UInt8(ascii: "0"): return .http10
        default: return .http11  // HTTP/1.x, x > 1: answer as 1.1 (RFC 9110 §2.5)
        }
    }

    private mutating func parseTarget(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) {
        let t = head.target
        var pathStart = t.start
        switch buf[t.start] {
        case UInt8(ascii: "/"):
            break
        case UInt8(ascii: "*"):
            throw .asteriskTarget
        default:
            // absolute-form: http://authority[/path][?query]
            let schemeEnd: Int
            if t.count > 7 && ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: buf[t.start..<t.start + 7]), "http://") {
                schemeEnd = t.start + 7
            } else if t.count > 8 && ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: buf[t.start..<t.start + 8]), "https://") {
                schemeEnd = t.start + 8
            } else {
                throw .invalidTarget
            }
            var j = schemeEnd
            while j < t.end && buf[j] != UInt8(ascii: "/") && buf[j] != UInt8(ascii: "?") { j += 1 }
            guard j > schemeEnd else { throw .invalidTarget }
            try Self.validateHost(buf, schemeEnd, j)
            head.authority = ByteRange(start: schemeEnd, end: j)
            pathStart = j
        }
        var q = pathStart
        while q < t.end && buf[q] != UInt8(ascii: "?") {
            if buf[q] == UInt8(ascii: "#") { throw .invalidTarget }
            q += 1
        }
        for j in q..<t.end where buf[j] == UInt8(ascii: "#") { throw .invalidTarget }
        head.path = ByteRange(start: pathStart, end: q)
    }

    /// A Host is a reg-name or IP literal with an optional port: no `/ ? # @ \` or spaces.
    static func validateHost(_ buf: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) {
        for j in s..<e {
            switch buf[j] {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: continue
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
                 UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "%"),
                 UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                 UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
                continue
            default:
                throw .invalidHost
            }
        }
    }

    private mutating func finish(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) {
        let s = head.semantics
        if s.hostCount > 1 { throw .duplicateHost }
        if s.hostCount == 0 && head.version == .http11 && head.authority == nil { throw .missingHost }
        if s.hostIndex >= 0 {
            let h = head.headers[s.hostIndex]
            try Self.validateHost(buf, h.valueStart, h.valueEnd)
        }
        if s.hasTransferEncoding && head.version == .http10 { throw .transferEncodingInHTTP10 }
        try s.validateFraming()
        if s.expectOther { throw .unsupportedExpectation }
        if s.hasTransferEncoding {
            head.framing = .chunked
        } else if s.contentLength > 0 {
            head.framing = .length(s.contentLength)
        } else {
            head.framing = .none
        }
    }
}

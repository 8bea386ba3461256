/// The incremental parser of response heads from upstreams, as strict as the
/// request parser: a response it is unsure of becomes a 502, never a guess.
public struct ResponseHeadParser: Sendable {
    public private(set) var head = ResponseHead()
    public let maxHeadSize: Int
    public let maxHeaders: Int
    private var lines = LineScanner()
    private var sawStatusLine = false

    /// Drops the parsed head's arrays (an idle connection keeps no memory
    /// for a head it may never get); the next parse allocates again.
    public mutating func releaseMemory() {
        head = ResponseHead()
    }

    public init(maxHeadSize: Int = 64 * 1024, maxHeaders: Int = 256) {
        self.maxHeadSize = maxHeadSize
        self.maxHeaders = maxHeaders
    }

    public mutating func reset() {
        lines.reset()
        sawStatusLine = false
        if !head.headers.isEmpty { head.headers.removeAll(keepingCapacity: true) }
        head.semantics.reset()
    }

    public mutating func parse(_ buf: UnsafeRawBufferPointer) -> HeadParseResult {
        do {
            return try parseLines(buf)
        } catch {
            return .error(error)
        }
    }

    private mutating func parseLines(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult {
        while let (lineStart, lineEnd) = try lines.nextLine(buf, headStart: 0, maxHeadSize: maxHeadSize, tooLarge: .headTooLarge) {
            if !sawStatusLine {
                try parseStatusLine(buf, lineStart, lineEnd)
                head.statusLineEnd = lines.position
                sawStatusLine = true
            } else if lineEnd == lineStart {
                head.end = lines.position
                try head.semantics.validateFraming()
                return .complete(consumed: lines.position)
            } else {
                try HeaderLine.absorb(buf, start: lineStart, end: lineEnd, lineEnd: lines.position,
                                      maxHeaders: maxHeaders, into: &head.headers, &head.semantics)
            }
        }
        return .needMore
    }

    /// `HTTP/1.1 SP 3DIGIT [SP reason]`
    private mutating func parseStatusLine(_ buf: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) {
        guard e - s >= 12, buf[s + 8] == 0x20 else { throw .invalidStatusLine }
        do {
            head.version = try RequestHeadParser.parseVersion(buf, s, s + 8)
        } catch {
            throw .invalidStatusLine
        }
        var code = 0
        for j in (s + 9)..<(s + 12) {
            let c = buf[j]
            guard c >= 0x30 && c <= 0x39 else { throw .invalidStatusLine }
            code = code * 10 + Int(c - 0x30)
        }
        guard code >= 100 && code <= 599 else { throw .invalidStatusLine }
        if e > s + 12 {
            guard buf[s + 12] == 0x20 else { throw .invalidStatusLine }
            for j in (s + 13)..<e {
                let c = buf[j]
                if !ByteClass.isFieldValue(c) { throw c == 0x0D ? .bareCR : .invalidStatusLine }
            }
        }
        head.status = code
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The incremental parser of response heads from upstreams, as strict as the
/// request parser: a response it is unsure of becomes a 502, never a guess.
public struct ResponseHeadParser: Sendable {
    public private(set) var head = ResponseHead()
    public let maxHeadSize: Int
    public let maxHeaders: Int
    private var position = 0
    private var sawStatusLine = false

    public init(maxHeadSize: Int = 64 * 1024, maxHeaders: Int = 256) {
        self.maxHeadSize = maxHeadSize
        self.maxHeaders = maxHeaders
    }

    public mutating func reset() {
        position = 0
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
        guard let base = buf.baseAddress else { return .needMore }
        while true {
            let remaining = buf.count - position
            guard remaining > 0, let hit = memchr(base + position, 0x0A, remaining) else {
                if buf.count >= maxHeadSize { throw .headTooLarge }
                return .needMore
            }
            let lf = base.distance(to: UnsafeRawPointer(hit))
            if lf + 1 > maxHeadSize { throw .headTooLarge }
            guard lf > position, buf[lf - 1] == 0x0D else { throw .bareLF }
            let lineStart = position
            let lineEnd = lf - 1
            position = lf + 1
            if !sawStatusLine {
                try parseStatusLine(buf, lineStart, lineEnd)
                head.statusLineEnd = position
                sawStatusLine = true
                continue
            }
            if lineEnd == lineStart {
                head.end = position
                try head.semantics.validateFraming()
                return .complete(consumed: position)
            }
            if head.headers.count >= maxHeaders { throw .tooManyHeaders }
            let field = try HeaderLine.parse(buf, start: lineStart, end: lineEnd, lineEnd: position)
            try head.semantics.absorb(field, index: head.headers.count, buf)
            head.headers.append(field)
        }
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

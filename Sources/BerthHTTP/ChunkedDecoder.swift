/// An incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
/// It yields data ranges and swallows framing and extensions, keeping the
/// trailer section's lines (validated, bounded) for a caller that forwards
/// them, and refuses every malformed size or overrun rather than resynchronising.
public struct ChunkedDecoder: Sendable {
    public enum Step: Equatable, Sendable {
        /// `count` body bytes start at `offset` of the input.
        case data(offset: Int, count: Int)
        /// All input so far is consumed; more is needed.
        case needMore
        /// The last chunk and trailer section are complete.
        case done
        case error(HTTPParseError)
    }

    private enum State: Sendable {
        case sizeStart, size, sizeSpace, extensions, sizeLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerLine, trailerLF, finalLF
        case done
    }

    private var state: State = .sizeStart
    private var remaining: UInt64 = 0
    private var digits = 0
    private var extensionBytes = 0
    private var trailerBytes = 0
    private var trailerLine: [UInt8] = []
    /// The trailer section's field lines, each ending in CRLF, once `done`
    /// (empty for a body without trailers, the usual case: no allocation).
    public private(set) var trailers: [UInt8] = []
    public let maxTrailerSize: Int

    public init(maxTrailerSize: Int = 32 * 1024) {
        self.maxTrailerSize = maxTrailerSize
    }

    public var isDone: Bool { if case .done = state { return true } else { return false } }

    public mutating func reset() {
        state = .sizeStart
        remaining = 0
        digits = 0
        extensionBytes = 0
        trailerBytes = 0
        trailerLine.removeAll(keepingCapacity: true)
        if !trailers.isEmpty { trailers = [] }
    }

    /// Decodes from `input[position...]`, advancing `position` past what it used.
    /// At most `maxData` body bytes are returned at once.
    public mutating func decode(_ input: UnsafeRawBufferPointer, position: inout Int, maxData: Int) -> Step {
        while position < input.count {
            let c = input[position]
            switch state {
            case .sizeStart:
                guard let v = ByteClass.hexValue(c) else { return fail(.invalidChunkSize) }
                remaining = UInt64(v)
                digits = 1
                state = .size
            case .size:
                if let v = ByteClass.hexValue(c) {
                    digits += 1
                    if digits > 15 { return fail(.chunkSizeOverflow) }
                    remaining = remaining << 4 | UInt64(v)
                } else if c == 0x0D {
                    state = .sizeLF
                } else if c == UInt8(ascii: ";") {
                    state = .extensions
                } else if c == 0x20 || c == 0x09 {
                    state = .sizeSpace
                } else {
                    return fail(.invalidChunkSize)
                }
            case .sizeSpace:
                // BWS is only allowed before a chunk extension.
                if c == UInt8(ascii: ";") {
                    state = .extensions
                } else if c != 0x20 && c != 0x09 {
                    return fail(.invalidChunkSize)
                }
            case .extensions:
                extensionBytes += 1
                if extensionBytes > 4096 { return fail(.invalidChunkExtension) }
                if c == 0x0D {
                    state = .sizeLF
                } else if !ByteClass.isFieldValue(c) {
                    return fail(.invalidChunkExtension)
                }
            case .sizeLF:
                guard c == 0x0A else { return fail(.bareCR) }
                extensionBytes = 0
                state = remaining == 0 ? .trailerLineStart : .data
            case .data:
                let available = input.count - position
                let n = Int(min(UInt64(min(available, maxData)), remaining))
                if n == 0 { return .needMore }
                let offset = position
                position += n
                remaining -= UInt64(n)
                if remaining == 0 { state = .dataCR }
                return .data(offset: offset, count: n)
            case .dataCR:
                guard c == 0x0D else { return fail(.chunkDataOverrun) }
                state = .dataLF
            case .dataLF:
                guard c == 0x0A else { return fail(.chunkDataOverrun) }
                state = .sizeStart
            case .trailerLineStart:
                if c == 0x0D {
                    state = .finalLF
                } else {
                    trailerLine.removeAll(keepingCapacity: true)
                    trailerLine.append(c)
                    state = .trailerLine
                }
                if countTrailer() { return fail(.headTooLarge) }
            case .trailerLine:
                if countTrailer() { return fail(.headTooLarge) }
                if c == 0x0D {
                    state = .trailerLF
                } else {
                    trailerLine.append(c)
                }
            case .trailerLF:
                guard c == 0x0A else { return fail(.bareCR) }
                let ok = trailerLine.withUnsafeBytes { line -> Bool in
                    (try? HeaderLine.parse(line, start: 0, end: line.count, lineEnd: line.count)) != nil
                }
                if !ok { return fail(.invalidTrailer) }
                trailers += trailerLine
                trailers += [0x0D, 0x0A]
                state = .trailerLineStart
            case .finalLF:
                guard c == 0x0A else { return fail(.bareCR) }
                position += 1
                state = .done
                return .done
            case .done:
                return .done
            }
            position += 1
        }
        if case .done = state { return .done }
        return .needMore
    }

    private mutating func countTrailer() -> Bool {
        trailerBytes += 1
        return trailerBytes > maxTrailerSize
    }

    private mutating func fail(_ e: HTTPParseError) -> Step {
        state = .done
        return .error(e)
    }
}

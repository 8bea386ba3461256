/// One header line located inside a buffer: offsets, not copies, so parsing
/// allocates nothing per field. Offsets are relative to the parsed bytes' start.
public struct HeaderField: Sendable {
    /// Offset of the first byte of the name.
    public var lineStart: Int
    /// Offset of the colon.
    public var nameEnd: Int
    /// The value with surrounding whitespace trimmed.
    public var valueStart: Int
    public var valueEnd: Int
    /// Offset just past the line's CRLF.
    public var lineEnd: Int
    public var kind: KnownHeader

    public var valueLength: Int { valueEnd - valueStart }
}

/// A byte range inside a parsed head.
public struct ByteRange: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) { self.start = start; self.end = end }
    public var count: Int { end - start }
}

/// Parses one `name: value` line (RFC 9112 §5) at fixed offsets, shared by the
/// request, response and trailer parsers.
enum HeaderLine {
    /// `start..<end` is the line without its CRLF; `lineEnd` is just past the CRLF.
    static func parse(_ buf: UnsafeRawBufferPointer, start: Int, end: Int, lineEnd: Int) throws(HTTPParseError) -> HeaderField {
        let first = buf[start]
        if first == 0x20 || first == 0x09 { throw .obsFold }
        var i = start
        while i < end && ByteClass.isToken(buf[i]) { i += 1 }
        if i == end { throw i == start ? .invalidHeaderName : (buf[i - 1] == 0x0D ? .bareCR : .invalidHeaderName) }
        let c = buf[i]
        if c == 0x20 || c == 0x09 { throw .whitespaceBeforeColon }
        if c == 0x0D { throw .bareCR }
        if c != UInt8(ascii: ":") || i == start { throw .invalidHeaderName }
        let nameEnd = i
        i += 1
        while i < end && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
        let valueStart = i
        let bad = ByteClass.firstInvalidFieldValueByte(buf, i, end)
        if bad < end { throw buf[bad] == 0x0D ? .bareCR : .invalidHeaderValue }
        var valueEnd = end
        while valueEnd > valueStart && (buf[valueEnd - 1] == 0x20 || buf[valueEnd - 1] == 0x09) { valueEnd -= 1 }
        let kind = KnownHeader.classify(UnsafeRawBufferPointer(rebasing: buf[start..<nameEnd]))
        return HeaderField(lineStart: start, nameEnd: nameEnd, valueStart: valueStart,
                           valueEnd: valueEnd, lineEnd: lineEnd, kind: kind)
    }

    /// Room for this many fields at a head's first: a typical head's, so a new
    /// parser's array is allocated once, not grown field by field.
    static let typicalFieldCount = 16

    /// Parses the header line `start..<end` of a head and records it: the
    /// step the request and response parsers share.
    static func absorb(_ buf: UnsafeRawBufferPointer, start: Int, end: Int, lineEnd: Int, maxHeaders: Int,
                       into headers: inout [HeaderField], _ semantics: inout MessageSemantics) throws(HTTPParseError) {
        if headers.count >= maxHeaders { throw .tooManyHeaders }
        let field = try parse(buf, start: start, end: end, lineEnd: lineEnd)
        try semantics.absorb(field, index: headers.count, buf)
        if headers.capacity == 0 { headers.reserveCapacity(typicalFieldCount) }
        headers.append(field)
    }

    /// Calls `body` with each non-empty element of a comma-separated list value, trimmed.
    static func forEachElement(_ buf: UnsafeRawBufferPointer, _ start: Int, _ end: Int,
                               _ body: (Int, Int) throws(HTTPParseError) -> Void) throws(HTTPParseError) {
        var i = start
        while i <= end {
            var j = i
            while j < end && buf[j] != UInt8(ascii: ",") { j += 1 }
            var s = i, e = j
            while s < e && (buf[s] == 0x20 || buf[s] == 0x09) { s += 1 }
            while e > s && (buf[e - 1] == 0x20 || buf[e - 1] == 0x09) { e -= 1 }
            if e > s { try body(s, e) }
            i = j + 1
        }
    }
}

/// Splits proxy.conf into words, braces and line ends. `#` starts a comment
/// where a token could start; values may be quoted with `"` (escapes `\"`, `\\`).
struct ConfigLexer {
    let file: String
    let bytes: [UInt8]

    init(file: String, text: String) {
        self.init(file: file, bytes: Array(text.utf8))
    }

    init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
    }

    /// Whether `b` ends an unquoted word (the rule `TopLevelSpans` scans by too).
    @inline(__always)
    static func endsWord(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n")
            || b == UInt8(ascii: "{") || b == UInt8(ascii: "}") || b == UInt8(ascii: "\"")
    }

    /// The tokens of the whole file.
    func tokenize() throws(ConfigError) -> [ConfigToken] {
        try tokenize(0..<bytes.count, line: 1, lineStart: 0)
    }

    /// The tokens of `range` (one top-level statement on a reload), with
    /// locations as in the whole file: `line` is the range's first line and
    /// `lineStart` that line's first byte.
    func tokenize(_ range: Range<Int>, line firstLine: Int, lineStart firstLineStart: Int) throws(ConfigError) -> [ConfigToken] {
        var tokens: [ConfigToken] = []
        tokens.reserveCapacity(range.count / 4)
        var i = range.lowerBound
        let end = range.upperBound
        var line = firstLine
        var lineStart = firstLineStart
        func here(_ at: Int) -> SourceLocation {
            // Columns count characters, not bytes: the same thing on an ASCII
            // line, which is checked byte by byte before counting characters.
            var ascii = true
            for j in lineStart..<at where bytes[j] >= 0x80 { ascii = false; break }
            let col = ascii ? at - lineStart + 1 : String(decoding: bytes[lineStart..<at], as: UTF8.self).count + 1
            return SourceLocation(file: file, line: line, column: col)
        }
        while i < end {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "\n"):
                tokens.append(ConfigToken(kind: .newline, location: here(i)))
                i += 1
                line += 1
                lineStart = i
            case UInt8(ascii: "#"):
                while i < end && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "{"):
                tokens.append(ConfigToken(kind: .openBrace, location: here(i)))
                i += 1
            case UInt8(ascii: "}"):
                tokens.append(ConfigToken(kind: .closeBrace, location: here(i)))
                i += 1
            case UInt8(ascii: "\""):
                let start = here(i)
                var value: [UInt8] = []
                i += 1
                var closed = false
                while i < end {
                    let d = bytes[i]
                    if d == UInt8(ascii: "\n") { break }
                    if d == UInt8(ascii: "\\") && i + 1 < end
                        && (bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\")) {
                        value.append(bytes[i + 1])
                        i += 2
                        continue
                    }
                    i += 1
                    if d == UInt8(ascii: "\"") { closed = true; break }
                    value.append(d)
                }
                if !closed { throw ConfigError(start, "unterminated string: expected a closing '\"' on the same line") }
                tokens.append(ConfigToken(kind: .word(String(decoding: value, as: UTF8.self)), location: start, quoted: true))
            default:
                let start = i
                while i < end {
                    let d = bytes[i]
                    if ConfigLexer.endsWord(d) { break }
                    i += 1
                }
                tokens.append(ConfigToken(kind: .word(String(decoding: bytes[start..<i], as: UTF8.self)), location: here(start)))
            }
        }
        tokens.append(ConfigToken(kind: .end, location: here(i)))
        return tokens
    }
}

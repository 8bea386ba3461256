/// Where each top-level statement of proxy.conf starts and ends, found by one
/// byte scan that follows the lexer's rules (words, quotes, `#` comments,
/// braces) without making tokens, so a reload can lex and build only the
/// statements whose bytes changed. Anything unusual (an unbalanced brace, an
/// unterminated string) gives `nil`, and the caller parses the whole file,
/// which reports the error where it is.
struct TopLevelSpans {
    /// One top-level statement: its bytes and where its first byte is.
    struct Span {
        var range: Range<Int>
        var line: Int
        /// The offset of the first byte of the statement's first line.
        var lineStart: Int
        /// Whether the statement is `app NAME { ... }` (its first word is `app`).
        var isApp: Bool
    }

    static func split(_ bytes: [UInt8]) -> [Span]? {
        var spans: [Span] = []
        var i = 0
        var line = 1
        var lineStart = 0
        var depth = 0
        var open: Span?  // the statement being scanned, while at depth 0 or inside its block
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "\n"):
                if depth == 0, var s = open {
                    s.range = s.range.lowerBound..<i
                    spans.append(s)
                    open = nil
                }
                i += 1
                line += 1
                lineStart = i
            case UInt8(ascii: "#"):
                while i < n && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "{"):
                if depth == 0 && open == nil { return nil }
                depth += 1
                i += 1
            case UInt8(ascii: "}"):
                if depth == 0 { return nil }
                depth -= 1
                i += 1
                if depth == 0, var s = open {
                    s.range = s.range.lowerBound..<i
                    spans.append(s)
                    open = nil
                }
            case UInt8(ascii: "\""):
                if depth == 0 && open == nil { open = Span(range: i..<i, line: line, lineStart: lineStart, isApp: false) }
                i += 1
                var closed = false
                while i < n {
                    let d = bytes[i]
                    if d == UInt8(ascii: "\n") { break }
                    if d == UInt8(ascii: "\\") && i + 1 < n && (bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\")) {
                        i += 2
                        continue
                    }
                    i += 1
                    if d == UInt8(ascii: "\"") { closed = true; break }
                }
                if !closed { return nil }
            default:
                let start = i
                while i < n {
                    let d = bytes[i]
                    if ConfigLexer.endsWord(d) { break }
                    i += 1
                }
                if depth == 0 && open == nil {
                    let isApp = i - start == 3 && bytes[start] == UInt8(ascii: "a") && bytes[start + 1] == UInt8(ascii: "p")
                        && bytes[start + 2] == UInt8(ascii: "p")
                    open = Span(range: start..<start, line: line, lineStart: lineStart, isApp: isApp)
                }
            }
        }
        if depth != 0 { return nil }
        if var s = open {
            s.range = s.range.lowerBound..<n
            spans.append(s)
        }
        return spans
    }
}

/// BuildKit's word splitters: `parseWords` (quotes kept, for ENV/LABEL/ARG)
/// and `extractBuilderFlags` (leading `--flags`), on Unicode scalars like Go's runes.
enum DockerfileWords {
    /// Go's unicode.IsSpace.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0: return true
        default: return c.properties.generalCategory == .spaceSeparator
        }
    }

    /// BuildKit's reWhitespace: `[\t\v\f\r ]`.
    static func isSplitSpace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\u{0B}" || c == "\u{0C}" || c == "\r" || c == " "
    }

    static func trimSpace(_ s: Substring.UnicodeScalarView) -> String {
        var a = s[...]
        while let f = a.first, isSpace(f) { a = a.dropFirst() }
        while let l = a.last, isSpace(l) { a = a.dropLast() }
        return String(String.UnicodeScalarView(a))
    }

    static func trimSpace(_ s: String) -> String { trimSpace(Substring(s).unicodeScalars) }

    /// `regexp.Split(s, -1)` with `[\t\v\f\r ]+`.
    static func splitWhitespace(_ s: String, limit: Int = -1) -> [String] {
        var out: [String] = []
        var cur = String.UnicodeScalarView()
        var scalars = s.unicodeScalars[...]
        while let c = scalars.first {
            if isSplitSpace(c) && (limit < 0 || out.count < limit - 1) {
                out.append(String(cur))
                cur = String.UnicodeScalarView()
                while let n = scalars.first, isSplitSpace(n) { scalars = scalars.dropFirst() }
                continue
            }
            cur.append(c)
            scalars = scalars.dropFirst()
        }
        out.append(String(cur))
        return out
    }

    /// Words separated by spaces, with quotes and escapes kept in the word.
    static func parseWords(_ rest: String, escape: Unicode.Scalar) -> [String] {
        enum Phase { case spaces, word, quote }
        var words: [String] = []
        var phase = Phase.spaces
        var word = String.UnicodeScalarView()
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        let s = Array(rest.unicodeScalars)
        var pos = 0
        while pos <= s.count {
            let atEnd = pos == s.count
            let ch: Unicode.Scalar = atEnd ? "\0" : s[pos]
            if phase == .spaces {
                if atEnd { break }
                if isSpace(ch) { pos += 1; continue }
                phase = .word
            }
            if (phase == .word || phase == .quote) && atEnd {
                if blankOK || !word.isEmpty { words.append(String(word)) }
                break
            }
            if phase == .word {
                if isSpace(ch) {
                    phase = .spaces
                    if blankOK || !word.isEmpty { words.append(String(word)) }
                    word = String.UnicodeScalarView()
                    blankOK = false
                    pos += 1
                    continue
                }
                var c = ch
                if c == "'" || c == "\"" {
                    quote = c
                    blankOK = true
                    phase = .quote
                }
                if c == escape {
                    if pos + 1 == s.count { pos += 1; continue }
                    word.append(c)
                    pos += 1
                    c = s[pos]
                }
                word.append(c)
                pos += 1
                continue
            }
            // inside quotes
            var c = ch
            if c == quote { phase = .word }
            if c == escape && quote != "'" {
                if pos + 1 == s.count {
                    phase = .word
                    pos += 1
                    continue
                }
                pos += 1
                word.append(c)
                c = s[pos]
            }
            word.append(c)
            pos += 1
        }
        return words
    }

    /// Leading `--name[=value]` words; returns them and the rest of the line.
    /// `--` alone ends the flags.
    static func extractFlags(_ line: String) -> (rest: String, flags: [String]) {
        enum Phase { case spaces, word, quote }
        let s = Array(line.unicodeScalars)
        var words: [String] = []
        var phase = Phase.spaces
        var word = String.UnicodeScalarView()
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var pos = 0
        func rest(_ from: Int) -> String { String(String.UnicodeScalarView(s[from...])) }
        while pos <= s.count {
            let atEnd = pos == s.count
            var ch: Unicode.Scalar = atEnd ? "\0" : s[pos]
            if phase == .spaces {
                if atEnd { break }
                if isSpace(ch) { pos += 1; continue }
                if ch != "-" || pos + 1 == s.count || s[pos + 1] != "-" { return (rest(pos), words) }
                phase = .word
            }
            if (phase == .word || phase == .quote) && atEnd {
                let w = String(word)
                if w != "--" && (blankOK || !w.isEmpty) { words.append(w) }
                break
            }
            if phase == .word {
                if isSpace(ch) {
                    phase = .spaces
                    let w = String(word)
                    if w == "--" { return (rest(pos), words) }
                    if blankOK || !w.isEmpty { words.append(w) }
                    word = String.UnicodeScalarView()
                    blankOK = false
                    pos += 1
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    phase = .quote
                    pos += 1
                    continue
                }
                if ch == "\\" {
                    if pos + 1 == s.count { pos += 1; continue }
                    pos += 1
                    ch = s[pos]
                }
                word.append(ch)
                pos += 1
                continue
            }
            if ch == quote {
                phase = .word
                pos += 1
                continue
            }
            if ch == "\\" {
                if pos + 1 == s.count {
                    phase = .word
                    pos += 1
                    continue
                }
                pos += 1
                ch = s[pos]
            }
            word.append(ch)
            pos += 1
        }
        return ("", words)
    }
}

/// BuildKit's word expansion (frontend/dockerfile/shell): `$v`, `${v}`,
/// `${v:-w}`, `${v-w}`, `${v:+w}`, `${v+w}`, `${v:?msg}`, `${v?msg}`, single
/// and double quotes, and the escape character. `expandWord` gives one string
/// with quotes removed; `expandWords` also splits on unquoted white space
/// (including white space that came from an unquoted variable).
public struct ShellWord: Sendable {
    public var escape: Unicode.Scalar

    public init(escape: Unicode.Scalar = "\\") {
        self.escape = escape
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public func expandWord(_ word: String, env: [String: String]) throws(Failure) -> String {
        var lexer = Lexer(chars: Array(word.unicodeScalars), escape: escape, env: env)
        return try lexer.run().joinedWord
    }

    public func expandWords(_ word: String, env: [String: String]) throws(Failure) -> [String] {
        var lexer = Lexer(chars: Array(word.unicodeScalars), escape: escape, env: env)
        return try lexer.run().words
    }

    /// Collects the result both as one string and as split words.
    struct Output {
        var joined = String.UnicodeScalarView()
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false

        var joinedWord: String { String(joined) }

        /// Unquoted: white space ends a word.
        mutating func add(_ c: Unicode.Scalar) {
            joined.append(c)
            if DockerfileWords.isSpace(c) {
                if inWord { endWord() }
            } else {
                word.append(c)
                inWord = true
            }
        }

        mutating func add(_ s: String) { for c in s.unicodeScalars { add(c) } }

        /// Quoted or escaped: never splits, and makes a word even when empty.
        mutating func addRaw(_ s: String) {
            joined.append(contentsOf: s.unicodeScalars)
            word.append(contentsOf: s.unicodeScalars)
            inWord = true
        }

        mutating func endWord() {
            words.append(String(word))
            word = String.UnicodeScalarView()
            inWord = false
        }

        mutating func finish() {
            if inWord { endWord() }
        }
    }

    struct Lexer {
        let chars: [Unicode.Scalar]
        let escape: Unicode.Scalar
        let env: [String: String]
        var pos = 0

        init(chars: [Unicode.Scalar], escape: Unicode.Scalar, env: [String: String]) {
            self.chars = chars
            self.escape = escape
            self.env = env
        }

        var peek: Unicode.Scalar? { pos < chars.count ? chars[pos] : nil }

        mutating func next() -> Unicode.Scalar? {
            guard pos < chars.count else { return nil }
            pos += 1
            return chars[pos - 1]
        }

        mutating func run() throws(Failure) -> Output {
            var out = Output()
            try process(until: nil, into: &out)
            out.finish()
            return out
        }

        /// Reads up to `stop` (not consumed) or the end.
        mutating func process(until stop: Unicode.Scalar?, into out: inout Output) throws(Failure) {
            while let c = peek {
                if c == stop { return }
                switch c {
                case "'":
                    out.addRaw(try singleQuoted())
                case "\"":
                    out.addRaw(try doubleQuoted())
                case "$":
                    out.add(try dollar())
                default:
                    _ = next()
                    if c == escape {
                        guard let e = next() else { return }  // an escape at the very end is dropped
                        out.addRaw(String(e))
                    } else {
                        out.add(c)
                    }
                }
            }
        }

        mutating func singleQuoted() throws(Failure) -> String {
            _ = next()
            var s = String.UnicodeScalarView()
            while let c = next() {
                if c == "'" { return String(s) }
                s.append(c)
            }
            throw Failure(description: "unexpected end of statement while looking for matching single-quote")
        }

        mutating func doubleQuoted() throws(Failure) -> String {
            _ = next()
            var s = ""
            while let c = peek {
                if c == "\"" {
                    _ = next()
                    return s
                }
                if c == "$" {
                    s += try dollar()
                    continue
                }
                _ = next()
                if c == escape, let e = peek, e == "\"" || e == "$" || e == escape {
                    _ = next()
                    s.unicodeScalars.append(e)
                    continue
                }
                s.unicodeScalars.append(c)
            }
            throw Failure(description: "unexpected end of statement while looking for matching double-quote")
        }

        mutating func dollar() throws(Failure) -> String {
            _ = next()
            guard peek == "{" else {
                let name = self.name()
                if name.isEmpty { return "$" }
                return env[name] ?? ""
            }
            _ = next()
            let name = self.name()
            guard let c = next() else { throw Failure(description: "syntax error: missing '}'") }
            if name.isEmpty { throw Failure(description: "bad substitution") }
            let value = env[name]
            switch c {
            case "}":
                return value ?? ""
            case ":", "-", "+", "?":
                var op = String(c)
                if c == ":" {
                    guard let m = next(), m == "-" || m == "+" || m == "?" else {
                        throw Failure(description: "unsupported modifier in ${\(name):...}")
                    }
                    op += String(m)
                }
                var inner = Output()
                try process(until: "}", into: &inner)
                guard next() == "}" else { throw Failure(description: "syntax error: missing '}'") }
                let word = inner.joinedWord
                let unsetOrEmpty = value == nil || value!.isEmpty
                switch op {
                case ":-": return unsetOrEmpty ? word : value!
                case "-": return value ?? word
                case ":+": return unsetOrEmpty ? "" : word
                case "+": return value == nil ? "" : word
                case ":?":
                    if unsetOrEmpty { throw Failure(description: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
                    return value!
                default:
                    if value == nil { throw Failure(description: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
                    return value!
                }
            default:
                throw Failure(description: "unsupported modifier (\(c)) in substitution")
            }
        }

        /// A variable name: letters, digits and `_`; or one digit run; or one special parameter.
        mutating func name() -> String {
            var s = String.UnicodeScalarView()
            while let c = peek {
                if s.isEmpty && c.properties.numericType == .decimal {
                    while let d = peek, d.properties.numericType == .decimal {
                        s.append(d)
                        _ = next()
                    }
                    return String(s)
                }
                if s.isEmpty && "@*#?-$!0".unicodeScalars.contains(c) {
                    _ = next()
                    return String(c)
                }
                guard c.properties.isAlphabetic || c.properties.numericType == .decimal || c == "_" else { break }
                s.append(c)
                _ = next()
            }
            return String(s)
        }
    }
}

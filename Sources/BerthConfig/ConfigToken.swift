/// One lexical token of proxy.conf with where it starts.
struct ConfigToken: Sendable {
    enum Kind: Sendable, Equatable {
        case word(String)
        case openBrace
        case closeBrace
        case newline
        case end
    }
    var kind: Kind
    var location: SourceLocation
    /// Whether the word was quoted (a quoted `{` is a value, not a block).
    var quoted = false

    var word: String? {
        if case .word(let w) = kind { return w }
        return nil
    }

    var display: String {
        switch kind {
        case .word(let w): return "'\(w)'"
        case .openBrace: return "'{'"
        case .closeBrace: return "'}'"
        case .newline: return "end of line"
        case .end: return "end of file"
        }
    }
}

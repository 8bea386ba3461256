/// Turns proxy.conf text into a `Config`, or the first error with its
/// file:line:col and what was expected there.
struct ConfigParser {
    let file: String
    let text: String
    private var tokens: [ConfigToken] = []
    private var index = 0

    init(file: String, text: String) {
        self.file = file
        self.text = text
    }

    mutating func parse() throws(ConfigError) -> Config {
        tokens = try ConfigLexer(file: file, text: text).tokenize()
        index = 0
        let statements = try parseStatements(openedAt: nil)
        return try ConfigBuilder(file: file).build(statements)
    }

    // MARK: - statement tree

    private mutating func parseStatements(openedAt: SourceLocation?) throws(ConfigError) -> [ConfigStatement] {
        var out: [ConfigStatement] = []
        while true {
            let tok = tokens[index]
            switch tok.kind {
            case .newline:
                index += 1
            case .end:
                if let openedAt {
                    throw ConfigError(openedAt, "unterminated block: this '{' has no matching '}' before the end of the file")
                }
                return out
            case .closeBrace:
                if openedAt != nil {
                    index += 1
                    return out
                }
                throw ConfigError(tok.location, "unexpected '}': no block is open here")
            case .openBrace:
                throw ConfigError(tok.location, "expected a directive name before '{'")
            case .word(let name):
                index += 1
                var stmt = ConfigStatement(name: ConfigWord(text: name, location: tok.location, quoted: tok.quoted), args: [])
                argLoop: while true {
                    let t = tokens[index]
                    switch t.kind {
                    case .word(let value):
                        stmt.args.append(ConfigWord(text: value, location: t.location, quoted: t.quoted))
                        index += 1
                    case .openBrace:
                        index += 1
                        stmt.blockOpen = t.location
                        stmt.block = try parseStatements(openedAt: t.location)
                        break argLoop
                    default:
                        break argLoop
                    }
                }
                out.append(stmt)
            }
        }
    }
}

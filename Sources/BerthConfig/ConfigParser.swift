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

    /// Parses with `cache` from the last good parse of the same file: each
    /// top-level statement is lexed on its own, and an app block whose bytes
    /// and line are unchanged is taken from the cache instead. On success
    /// the cache holds this parse's app blocks. Text the span scan cannot
    /// follow is parsed whole (the same errors, at the same places).
    mutating func parse(reusing cache: inout ConfigParseCache) throws(ConfigError) -> Config {
        let bytes = Array(text.utf8)
        guard let spans = TopLevelSpans.split(bytes) else {
            let config = try parse()
            cache = ConfigParseCache()
            return config
        }
        let old = cache.file == file ? cache : ConfigParseCache()
        var fresh = ConfigParseCache()
        fresh.file = file
        fresh.blocks.reserveCapacity(old.blocks.count)
        var ordinal = 0  // of the next app block
        let lexer = ConfigLexer(file: file, bytes: bytes)
        var items: [ConfigBuilder.Item] = []
        items.reserveCapacity(spans.count)
        var keys: [ConfigParseCache.AppBlockKey?] = []  // per app item: its block, if it may be cached
        keys.reserveCapacity(spans.count)
        for span in spans {
            var key: ConfigParseCache.AppBlockKey?
            if span.isApp {
                let k = ConfigParseCache.AppBlockKey(bytes: bytes[span.lineStart..<span.range.upperBound], line: span.line)
                defer { ordinal += 1 }
                if ordinal < old.blocks.count, old.blocks[ordinal] == k {
                    items.append(.app(ordinal))
                    keys.append(k)
                    fresh.reused += 1
                    continue
                }
                key = k
            }
            tokens = try lexer.tokenize(span.range, line: span.line, lineStart: span.lineStart)
            index = 0
            let statements = try parseStatements(openedAt: nil)
            for s in statements {
                items.append(.statement(s))
                if s.nameText == "app" { keys.append(statements.count == 1 ? key : nil) }
            }
        }
        let config = try ConfigBuilder(file: file).build(items, reusing: old.apps)
        // Apps are built in item order: the n-th app item is config.apps[n].
        for (n, key) in keys.enumerated() {
            fresh.blocks.append(ConfigParseCache.reusable(config.apps[n]) ? key : nil)
        }
        fresh.apps = config.apps
        cache = fresh
        return config
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

/// A word of proxy.conf as a statement holds it (a directive name or one of
/// its values), with where it starts: the parser makes these only from word
/// tokens, so a value always has its text.
struct ConfigWord: Sendable {
    var text: String
    var location: SourceLocation
    /// Whether it was quoted (a quoted `{` is a value, not a block).
    var quoted = false

    var display: String { "'\(text)'" }
}

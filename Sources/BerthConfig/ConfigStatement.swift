/// A directive as written: its name, its values and, for blocks, its children.
/// The parser first builds these, then each block's directive table gives
/// them meaning.
struct ConfigStatement {
    var name: ConfigWord
    var args: [ConfigWord]
    var block: [ConfigStatement]?
    var blockOpen: SourceLocation?

    var nameText: String { name.text }

    /// Where a missing value would have been: just after the last word.
    var afterLast: SourceLocation {
        let last = args.last ?? name
        var loc = last.location
        loc.column += last.text.count + (last.quoted ? 2 : 0) + 1
        return loc
    }
}

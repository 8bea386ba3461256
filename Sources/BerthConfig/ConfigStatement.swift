/// A directive as written: its name, its values and, for blocks, its children.
/// The parser first builds these, then gives them meaning per block.
struct ConfigStatement {
    var name: ConfigToken
    var args: [ConfigToken]
    var block: [ConfigStatement]?
    var blockOpen: SourceLocation?

    var nameText: String { name.word ?? "" }

    /// Where a missing value would have been: just after the last token.
    var afterLast: SourceLocation {
        let last = args.last ?? name
        var loc = last.location
        loc.column += (last.word?.count ?? 1) + (last.quoted ? 2 : 0) + 1
        return loc
    }
}

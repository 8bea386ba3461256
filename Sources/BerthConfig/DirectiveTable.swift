/// The directives one block accepts, and the one place statements of that
/// block are matched to them: an unknown name is an error (with the nearest
/// valid one suggested), a second copy of a non-repeatable one is an error,
/// a block where none is taken is an error; everything else is the row's setter.
struct DirectiveTable<Target>: Sendable {
    /// The block as the reference names it: `main` (the top level), `timeouts`, `app`.
    let block: String
    /// Where, in an error: `at the top level`, `in 'timeouts'`.
    let context: String
    let rows: [ConfigDirective<Target>]
    /// Row index by name.
    private let index: [String: Int]

    init(block: String, context: String, rows: [ConfigDirective<Target>]) {
        self.block = block
        self.context = context
        precondition(rows.count <= 64, "a directive table has at most 64 rows")
        self.rows = rows
        index = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($0.element.name, $0.offset) })
    }

    var names: [String] { rows.map(\.name) }

    func apply(_ statements: [ConfigStatement], to target: inout Target) throws(ConfigError) {
        var seen: UInt64 = 0  // bit i: row i was set (a table has at most 64 rows)
        for s in statements {
            let i = try self.row(for: s)
            if !rows[i].repeatable, seen & (1 << i) != 0 {
                let first = statements.first { $0.nameText == rows[i].name }!.name.location
                throw ConfigError(s.name.location, "duplicate directive '\(rows[i].name)' (first set at \(first))")
            }
            seen |= 1 << i
            try set(row: i, from: s, on: &target)
        }
    }

    /// What one pass over a block has set so far, for a block applied one
    /// statement at a time (the top level, when a reload reuses app blocks).
    struct Progress {
        /// Where each non-repeatable row was first set.
        var firstSet: [Int: SourceLocation] = [:]
    }

    func apply(_ s: ConfigStatement, to target: inout Target, progress: inout Progress) throws(ConfigError) {
        let i = try self.row(for: s)
        if !rows[i].repeatable {
            if let first = progress.firstSet[i] {
                throw ConfigError(s.name.location, "duplicate directive '\(rows[i].name)' (first set at \(first))")
            }
            progress.firstSet[i] = s.name.location
        }
        try set(row: i, from: s, on: &target)
    }

    private func set(row i: Int, from s: ConfigStatement, on target: inout Target) throws(ConfigError) {
        if !rows[i].opensBlock, let open = s.blockOpen {
            throw ConfigError(open, "\(rows[i].name) does not take a block")
        }
        try rows[i].set(&target, s)
    }

    /// The row index for `s`'s name, or the unknown-directive error.
    private func row(for s: ConfigStatement) throws(ConfigError) -> Int {
        let n = s.nameText
        if let i = index[n] { return i }
        if let hint = DirectiveSuggestion.nearest(to: n, in: names) {
            throw ConfigError(s.name.location, "unknown directive '\(n)' \(context) (did you mean '\(hint)'?)")
        }
        throw ConfigError(s.name.location, "unknown directive '\(n)' \(context) (expected one of: \(names.joined(separator: ", ")))")
    }

    /// The rows as the public reference lists them.
    var reference: [DirectiveReference] {
        rows.map { DirectiveReference(block: block, name: $0.name, values: $0.values, summary: $0.summary, repeatable: $0.repeatable) }
    }
}

/// One directive as `berth check --directives` and the README list it; made
/// from the same rows the parser uses, so the reference can't drift from it.
public struct DirectiveReference: Sendable, Equatable {
    public let block: String
    public let name: String
    public let values: String
    public let summary: String
    public let repeatable: Bool
}

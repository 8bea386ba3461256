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

    var names: [String] { rows.map(\.name) }

    func apply(_ statements: [ConfigStatement], to target: inout Target) throws(ConfigError) {
        var seen: [String: SourceLocation] = [:]
        for s in statements {
            let row = try self.row(for: s)
            if !row.repeatable, let first = seen[row.name] {
                throw ConfigError(s.name.location, "duplicate directive '\(row.name)' (first set at \(first))")
            }
            if seen[row.name] == nil { seen[row.name] = s.name.location }
            if !row.opensBlock, let open = s.blockOpen {
                throw ConfigError(open, "\(row.name) does not take a block")
            }
            try row.set(&target, s)
        }
    }

    private func row(for s: ConfigStatement) throws(ConfigError) -> ConfigDirective<Target> {
        let n = s.nameText
        if let row = rows.first(where: { $0.name == n }) { return row }
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

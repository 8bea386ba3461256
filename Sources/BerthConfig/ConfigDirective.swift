/// One row of a block's directive table, as a row of nginx's
/// `ngx_command_t` list: the directive's name, the shape of its values (for
/// the reference), whether it may repeat or opens a block, a one-line
/// description, and the setter that checks its values and stores them.
struct ConfigDirective<Target>: Sendable {
    let name: String
    /// How its values are written, for `berth check --directives`.
    let values: String
    let summary: String
    var repeatable = false
    /// Opens a `{ }` block (its setter reads the block's own table).
    var opensBlock = false
    let set: @Sendable (inout Target, ConfigStatement) throws(ConfigError) -> Void

    init(_ name: String, _ values: String, _ summary: String, repeatable: Bool = false, opensBlock: Bool = false,
         set: @escaping @Sendable (inout Target, ConfigStatement) throws(ConfigError) -> Void) {
        self.name = name
        self.values = values
        self.summary = summary
        self.repeatable = repeatable
        self.opensBlock = opensBlock
        self.set = set
    }
}

/// Every directive proxy.conf accepts, block by block, read from the same
/// tables the parser uses (for `berth check --directives` and the README).
public enum ConfigReference {
    public static var directives: [DirectiveReference] {
        TopLevelDirectives.table.reference + TimeoutDirectives.table.reference + LimitDirectives.table.reference
            + TLSDirectives.table.reference + AppDirectives.table.reference
    }
}

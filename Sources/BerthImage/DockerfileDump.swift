/// BuildKit's `Node.Dump()` format: one `(name ["--flags"] "arg" ...)` line
/// per instruction, ONBUILD's inner instruction nested in parentheses.
public enum DockerfileDump {
    public static func dump(_ file: Dockerfile) -> String {
        file.instructions.map { "(" + dump($0) + ")\n" }.joined()
    }

    static func dump(_ i: Instruction) -> String {
        var s = i.name.lowercased()
        if !i.flags.isEmpty { s += " " + GoQuote.quoteList(i.flags) }
        for a in i.arguments {
            switch a {
            case .string(let v): s += " " + GoQuote.quote(v)
            case .instruction(let inner): s += " (" + dump(inner) + ")"
            }
        }
        return s
    }
}

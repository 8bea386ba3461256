/// A parsed Dockerfile: its parser directives and its instructions in order,
/// each with the lines it came from. This is BuildKit's AST, not yet expanded.
public struct Dockerfile: Sendable, Equatable {
    /// `# escape=` (default `\`).
    public var escape: Character = "\\"
    /// `# syntax=` when present (recorded, not acted on).
    public var syntax: String?
    public var instructions: [Instruction] = []
    /// Non-fatal findings, e.g. empty continuation lines.
    public var warnings: [String] = []

    public init() {}
}

/// One instruction (`RUN`, `COPY`, ...) as BuildKit's parser leaves it.
public struct Instruction: Sendable, Equatable {
    /// Lower-case instruction name (`from`, `run`, ...).
    public var name: String
    /// The logical line with continuations joined.
    public var original: String
    /// Leading `--flag[=value]` words.
    public var flags: [String] = []
    /// The arguments, as BuildKit's per-instruction parser splits them. ENV and
    /// LABEL give (key, value, separator) triples; ONBUILD one nested instruction.
    public var arguments: [InstructionArgument] = []
    /// True for JSON (exec) form.
    public var isJSON = false
    public var heredocs: [Heredoc] = []
    public var startLine: Int
    public var endLine: Int
    /// Comment lines directly above, without their `#`.
    public var comments: [String] = []

    /// The string arguments (nested instructions left out).
    public var strings: [String] {
        arguments.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
}

/// An argument of an instruction: a word, or (for ONBUILD) an instruction.
public indirect enum InstructionArgument: Sendable, Equatable {
    case string(String)
    case instruction(Instruction)
}

/// A here-document attached to RUN, COPY or ADD (`<<EOF ... EOF`).
public struct Heredoc: Sendable, Equatable {
    public var name: String
    public var content: String
    /// `<<-`: leading tabs are stripped from the content and terminator.
    public var chomp: Bool
    /// The delimiter was unquoted: the content is expanded.
    public var expand: Bool

    public init(name: String, content: String, chomp: Bool, expand: Bool) {
        self.name = name
        self.content = content
        self.chomp = chomp
        self.expand = expand
    }
}

/// A Dockerfile that can't be parsed, with BuildKit's message and the lines.
public struct DockerfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var startLine: Int
    public var endLine: Int
    public var file: String = "Dockerfile"

    public var description: String {
        let lines = startLine == endLine || endLine == 0 ? "\(startLine)" : "\(startLine)-\(endLine)"
        return "\(file):\(lines): \(message)"
    }
}

/// What `berth build` was asked for.
public struct BuildOptions: Sendable {
    public var context: String
    /// The Dockerfile path (default: CONTEXT/Dockerfile).
    public var dockerfile: String?
    public var tag: String?
    public var buildArgs: [String: String] = [:]
    public var noCache = false
    public var target: String?
    /// Registries FROM may pull from over plain HTTP.
    public var insecureRegistries: Set<String> = []
    /// `--secret id=X,...`: what RUN --mount=type=secret,id=X reads.
    public var secrets: [String: BuildSecret] = [:]

    public init(context: String) {
        self.context = context
    }
}

/// A build that failed: which step, why, and the step's last output lines.
public struct BuildError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var step: String?
    public var lastLines: [String] = []

    public init(_ message: String, step: String? = nil, lastLines: [String] = []) {
        self.message = message
        self.step = step
        self.lastLines = lastLines
    }

    public var description: String {
        var s = step.map { "step \($0): " } ?? ""
        s += message
        if !lastLines.isEmpty { s += "\nlast output:\n" + lastLines.map { "  " + $0 }.joined(separator: "\n") }
        return s
    }
}

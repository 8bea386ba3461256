/// Turns one logical line into an `Instruction`, with BuildKit's argument
/// rules per instruction (JSON or shell form, ENV/LABEL pairs, ONBUILD...).
struct InstructionParser {
    let escape: Unicode.Scalar

    struct Failure: Error {
        let message: String
    }

    /// `line` is the joined logical line; lines are recorded by the caller.
    func parse(_ line: String, startLine: Int, endLine: Int) throws(Failure) -> Instruction {
        let trimmed = DockerfileWords.trimSpace(line)
        let parts = DockerfileWords.splitWhitespace(trimmed, limit: 2)
        let command = parts[0]
        var flags: [String] = []
        var args = ""
        if parts.count == 2 {
            let (rest, f) = DockerfileWords.extractFlags(parts[1])
            flags = f
            args = DockerfileWords.trimSpace(rest)
        }
        var inst = Instruction(name: command.lowercased(), original: line, flags: flags,
                               startLine: startLine, endLine: endLine)
        let (arguments, json) = try arguments(for: inst.name, args, startLine: startLine, endLine: endLine)
        inst.arguments = arguments
        inst.isJSON = json
        return inst
    }

    private func arguments(for name: String, _ rest: String, startLine: Int, endLine: Int) throws(Failure) -> ([InstructionArgument], Bool) {
        switch name {
        case "add", "copy", "volume":
            return try maybeJSONToList(rest)
        case "cmd", "entrypoint", "run", "shell":
            return try maybeJSON(rest)
        case "arg":
            return (DockerfileWords.parseWords(rest, escape: escape).map { .string($0) }, false)
        case "env":
            return (try nameValues(rest, key: "ENV"), false)
        case "label":
            return (try nameValues(rest, key: "LABEL"), false)
        case "expose", "from":
            return (whitespaceDelimited(rest), false)
        case "healthcheck":
            return try healthcheck(rest)
        case "maintainer", "stopsignal", "user", "workdir":
            return (rest.isEmpty ? [] : [.string(rest)], false)
        case "onbuild":
            guard !rest.isEmpty else { return ([], false) }
            return ([.instruction(try parse(rest, startLine: startLine, endLine: endLine))], false)
        default:
            // Unknown instructions parse to nothing; the builder rejects them.
            return ([], false)
        }
    }

    private func whitespaceDelimited(_ rest: String) -> [InstructionArgument] {
        rest.isEmpty ? [] : DockerfileWords.splitWhitespace(rest).map { .string($0) }
    }

    private func maybeJSON(_ rest: String) throws(Failure) -> ([InstructionArgument], Bool) {
        if rest.isEmpty { return ([], false) }
        switch JSONStringArray.parse(rest) {
        case .strings(let s): return (s.map { .string($0) }, true)
        case .notStrings: throw Failure(message: "Dockerfile: JSON arrays must be strings only")
        case .notJSON: return ([.string(rest)], false)
        }
    }

    private func maybeJSONToList(_ rest: String) throws(Failure) -> ([InstructionArgument], Bool) {
        switch JSONStringArray.parse(rest) {
        case .strings(let s): return (s.map { .string($0) }, true)
        case .notStrings: throw Failure(message: "Dockerfile: JSON arrays must be strings only")
        case .notJSON: return (whitespaceDelimited(rest), false)
        }
    }

    private func healthcheck(_ rest: String) throws(Failure) -> ([InstructionArgument], Bool) {
        let s = Array(rest.unicodeScalars)
        var sep = 0
        while sep < s.count && !DockerfileWords.isSpace(s[sep]) { sep += 1 }
        var next = sep
        while next < s.count && DockerfileWords.isSpace(s[next]) { next += 1 }
        if sep == 0 { return ([], false) }
        let type = String(String.UnicodeScalarView(s[0..<sep]))
        let (cmd, json) = try maybeJSON(String(String.UnicodeScalarView(s[next...])))
        return ([.string(type)] + cmd, json)
    }

    /// `KEY name value` (old form: separator "") or `KEY a=1 b=2` (separator "=").
    private func nameValues(_ rest: String, key: String) throws(Failure) -> [InstructionArgument] {
        let words = DockerfileWords.parseWords(rest, escape: escape)
        guard let first = words.first else { return [] }
        if !first.contains("=") {
            let parts = DockerfileWords.splitWhitespace(rest, limit: 2)
            guard parts.count == 2 else { throw Failure(message: "\(key) must have two arguments") }
            return [.string(parts[0]), .string(parts[1]), .string("")]
        }
        var out: [InstructionArgument] = []
        for w in words {
            guard let eq = w.firstIndex(of: "=") else {
                throw Failure(message: "Syntax error - can't find = in \(GoQuote.quote(w)). Must be of the form: name=value")
            }
            out += [.string(String(w[..<eq])), .string(String(w[w.index(after: eq)...])), .string("=")]
        }
        return out
    }
}

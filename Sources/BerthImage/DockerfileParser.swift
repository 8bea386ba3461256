/// BuildKit's Dockerfile parser: parser directives, comments, line
/// continuations with the escape character (comments and blank lines allowed
/// inside them), heredocs for RUN/COPY/ADD, then one instruction per logical line.
public enum DockerfileParser {
    public static func parse(_ text: String, file: String = "Dockerfile") throws(DockerfileError) -> Dockerfile {
        var df = Dockerfile()
        var lines = splitLines(text)
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = String(first.dropFirst()) }
        var directivesDone = false
        var escapeSeen = false
        var escape: Unicode.Scalar = "\\"
        var comments: [String] = []
        var i = 0
        func fail(_ m: String, _ s: Int, _ e: Int) -> DockerfileError {
            DockerfileError(message: m, startLine: s, endLine: e, file: file)
        }

        while i < lines.count {
            let raw = lines[i]
            i += 1
            let lineNo = i
            let left = trimLeft(raw)
            // Parser directives: only before anything else.
            if !directivesDone {
                if let (key, value) = directive(left) {
                    if key == "escape" {
                        if escapeSeen { throw fail("only one escape parser directive can be used", lineNo, lineNo) }
                        guard value == "`" || value == "\\" else {
                            throw fail("invalid escape token '\(value)' does not match ` or \\", lineNo, lineNo)
                        }
                        escapeSeen = true
                        escape = value.unicodeScalars.first!
                        df.escape = Character(escape)
                    } else if key == "syntax" {
                        df.syntax = value
                    }
                    continue
                }
                directivesDone = true
            }
            if left.hasPrefix("#") {
                let c = DockerfileWords.trimSpace(String(left.dropFirst()))
                if c.isEmpty { comments = [] } else { comments.append(c) }
                continue
            }
            var (line, endOfLine) = trimContinuation(left, escape)
            if endOfLine && line.isEmpty { continue }
            let startLine = lineNo
            var endLine = lineNo
            var emptyContinuation = false
            while !endOfLine && i < lines.count {
                let next = lines[i]
                i += 1
                endLine = i
                let nextLeft = trimLeft(next)
                if nextLeft.hasPrefix("#") { continue }
                if nextLeft.isEmpty {
                    emptyContinuation = true
                    continue
                }
                let (piece, end) = trimContinuation(next, escape)
                line += piece
                endOfLine = end
            }
            if emptyContinuation {
                df.warnings.append("line \(startLine): empty continuation line (deprecated)")
            }
            var inst: Instruction
            do {
                inst = try InstructionParser(escape: escape).parse(line, startLine: startLine, endLine: endLine)
            } catch {
                throw fail(error.message, startLine, endLine)
            }
            inst.comments = comments
            comments = []
            if ["run", "copy", "add"].contains(inst.name) && !inst.isJSON && line.contains("<<") {
                for var doc in Heredocs.find(in: line) {
                    var terminated = false
                    while i < lines.count {
                        let body = lines[i]
                        i += 1
                        inst.endLine = i
                        let candidate = doc.chomp ? String(body.drop { $0 == "\t" }) : body
                        if candidate == doc.name {
                            terminated = true
                            break
                        }
                        doc.content += (doc.chomp ? candidate : body) + "\n"
                    }
                    if !terminated { throw fail("unterminated heredoc", startLine, inst.endLine) }
                    inst.heredocs.append(doc)
                }
            }
            df.instructions.append(inst)
        }
        if df.instructions.isEmpty { throw fail("file with no instructions", lines.count, 0) }
        return df
    }

    /// Lines as bufio.ScanLines gives them: split on LF, a trailing CR dropped.
    static func splitLines(_ text: String) -> [String] {
        var out = text.split(separator: "\n", omittingEmptySubsequences: false).map { l -> String in
            l.hasSuffix("\r") ? String(l.dropLast()) : String(l)
        }
        if text.hasSuffix("\n") { out.removeLast() }
        return out
    }

    static func trimLeft(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.drop { DockerfileWords.isSpace($0) }))
    }

    /// `# name = value` at the top of the file.
    static func directive(_ line: String) -> (String, String)? {
        guard line.hasPrefix("#") else { return nil }
        var rest = Substring(line.dropFirst())
        rest = rest.drop { $0 == " " || $0 == "\t" }
        let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) }
        guard let first = name.first, first.isLetter else { return nil }
        rest = rest.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard rest.first == "=" else { return nil }
        let value = DockerfileWords.trimSpace(String(rest.dropFirst()))
        guard !value.isEmpty else { return nil }
        return (name.lowercased(), value)
    }

    /// Strips a trailing escape character (and spaces after it) that continues
    /// the line; an escaped escape (`\\`) does not continue.
    static func trimContinuation(_ line: String, _ escape: Unicode.Scalar) -> (String, Bool) {
        var s = Array(line.unicodeScalars)
        var end = s.count
        while end > 0 && (s[end - 1] == " " || s[end - 1] == "\t") { end -= 1 }
        guard end > 0, s[end - 1] == escape else { return (line, true) }
        if end >= 2 && s[end - 2] == escape { return (line, true) }
        s.removeSubrange((end - 1)...)
        return (String(String.UnicodeScalarView(s)), false)
    }
}

/// Finds `<<EOF`, `<<-EOF`, `<<"EOF"` words on a RUN/COPY/ADD line.
enum Heredocs {
    static func find(in line: String) -> [Heredoc] {
        var docs: [Heredoc] = []
        for word in DockerfileWords.parseWords(line, escape: "\\") {
            var w = Substring(word)
            while let f = w.first, f.isNumber { w = w.dropFirst() }
            guard w.hasPrefix("<<") else { continue }
            w = w.dropFirst(2)
            let chomp = w.first == "-"
            if chomp { w = w.dropFirst() }
            guard !w.isEmpty, !w.contains("<") else { continue }
            var name = String(w)
            var quoted = false
            if let q = name.first, q == "\"" || q == "'", name.count >= 2, name.last == q {
                name = String(name.dropFirst().dropLast())
                quoted = true
            }
            docs.append(Heredoc(name: name, content: "", chomp: chomp, expand: !quoted))
        }
        return docs
    }
}

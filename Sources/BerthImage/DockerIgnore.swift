/// `.dockerignore` as Docker reads it (moby/patternmatcher): one pattern a
/// line, `#` comments, `!` for exceptions, `**` for any number of
/// directories, the last matching pattern wins, and a pattern that matches a
/// directory matches everything under it.
public struct DockerIgnore: Sendable {
    struct Pattern: Sendable {
        let segments: [String]
        let exclusion: Bool
    }

    private let patterns: [Pattern]

    public init(_ text: String) {
        var out: [Pattern] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = DockerfileWords.trimSpace(String(raw))
            if line.isEmpty || line.hasPrefix("#") { continue }
            var exclusion = false
            if line.hasPrefix("!") {
                exclusion = true
                line = DockerfileWords.trimSpace(String(line.dropFirst()))
            }
            let cleaned = Self.clean(line)
            if cleaned == "." || cleaned.isEmpty { continue }
            out.append(Pattern(segments: cleaned.split(separator: "/").map(String.init), exclusion: exclusion))
        }
        patterns = out
    }

    /// Whether the context path (relative, `/`-separated) is left out of the build.
    public func excludes(_ path: String) -> Bool {
        let parts = Self.clean(path).split(separator: "/").map(String.init)
        var matched = false
        for p in patterns {
            var hit = Self.match(p.segments[...], parts[...])
            if !hit {
                // A pattern matching a parent directory matches the file too.
                for n in stride(from: parts.count - 1, through: 1, by: -1) where Self.match(p.segments[...], parts[..<n]) {
                    hit = true
                    break
                }
            }
            if hit { matched = !p.exclusion }
        }
        return matched
    }

    /// Go's filepath.Clean for relative patterns, with a leading `/` dropped.
    static func clean(_ p: String) -> String {
        var out: [Substring] = []
        for part in p.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                if !out.isEmpty && out.last != ".." { out.removeLast() } else { out.append(part) }
                continue
            }
            out.append(part)
        }
        return out.isEmpty ? "." : out.joined(separator: "/")
    }

    /// Segment-wise match; `**` matches zero or more whole segments.
    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            var p = path
            while true {
                if match(rest, p) { return true }
                guard !p.isEmpty else { return false }
                p = p.dropFirst()
            }
        }
        guard let head = path.first, glob(Array(first.unicodeScalars)[...], Array(head.unicodeScalars)[...]) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// filepath.Match for one segment: `*`, `?`, `[...]` (with `^`/`!` and ranges), `\` escapes.
    static func glob(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = p, s = s
        while let c = p.first {
            switch c {
            case "*":
                let rest = p.dropFirst()
                var t = s
                while true {
                    if glob(rest, t) { return true }
                    guard !t.isEmpty else { return false }
                    t = t.dropFirst()
                }
            case "?":
                guard !s.isEmpty else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            case "[":
                guard let ch = s.first, let (ok, after) = charClass(p.dropFirst(), ch), ok else { return false }
                p = after
                s = s.dropFirst()
            case "\\":
                p = p.dropFirst()
                guard let lit = p.first, s.first == lit else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            default:
                guard s.first == c else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            }
        }
        return s.isEmpty
    }

    /// Matches `ch` against a class body (after `[`); returns the match and the pattern after `]`.
    static func charClass(_ body: ArraySlice<Unicode.Scalar>, _ ch: Unicode.Scalar) -> (Bool, ArraySlice<Unicode.Scalar>)? {
        var b = body
        var negate = false
        if b.first == "^" || b.first == "!" {
            negate = true
            b = b.dropFirst()
        }
        var hit = false
        var first = true
        while let c = b.first {
            if c == "]" && !first { return (hit != negate, b.dropFirst()) }
            first = false
            var lo = c
            b = b.dropFirst()
            if lo == "\\" {
                guard let e = b.first else { return nil }
                lo = e
                b = b.dropFirst()
            }
            var hi = lo
            if b.first == "-", b.count >= 2, b[b.index(after: b.startIndex)] != "]" {
                b = b.dropFirst()
                hi = b.first!
                b = b.dropFirst()
            }
            if lo.value <= ch.value && ch.value <= hi.value { hit = true }
        }
        return nil  // no closing bracket: a bad pattern matches nothing
    }
}

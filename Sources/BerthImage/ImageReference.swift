/// An image name as Docker reads it: `ubuntu` is docker.io/library/ubuntu:latest,
/// `user/app:1`, `localhost:5000/team/app`, `host/app@sha256:…`. docker.io is
/// served by registry-1.docker.io.
public struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    /// `docker.io`, `localhost:5000`, `ghcr.io`.
    public var domain: String
    /// `library/ubuntu`, `team/app`.
    public var repository: String
    /// `latest` unless given (nil when only a digest is given).
    public var tag: String?
    /// `sha256:…` when pinned.
    public var digest: String?

    public init(parsing text: String) throws(StoreError) {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let d = String(rest[rest.index(after: at)...])
            guard d.hasPrefix("sha256:"), d.count == 71, d.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw StoreError("invalid reference \(text): a digest is sha256: and 64 lowercase hex digits")
            }
            digest = d
            rest = rest[..<at]
        }
        let lastSlash = rest.lastIndex(of: "/")
        let nameEnd = rest.lastIndex(of: ":").flatMap { c in lastSlash.map { c > $0 } ?? true ? c : nil }
        if let c = nameEnd {
            tag = String(rest[rest.index(after: c)...])
            rest = rest[..<c]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.contains(where: \.isUppercase) {
            domain = first
            components.removeFirst()
        } else {
            domain = "docker.io"
        }
        if domain == "index.docker.io" { domain = "docker.io" }
        if domain == "docker.io" && components.count == 1 { components.insert("library", at: 0) }
        repository = components.joined(separator: "/")
        guard !repository.isEmpty, components.allSatisfy({ Self.validComponent($0) }) else {
            throw StoreError("invalid reference \(text): repository names are lowercase letters, digits and . _ - separated by /")
        }
        if let t = tag, t.isEmpty || t.count > 128 || !t.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) || t.first == "." || t.first == "-" {
            throw StoreError("invalid reference \(text): bad tag '\(t)'")
        }
        if tag == nil && digest == nil { tag = "latest" }
    }

    /// A path component: lowercase ASCII letters and digits, with `.` `_` `-` inside.
    static func validComponent(_ c: String) -> Bool {
        func alnum(_ ch: Character) -> Bool { ch.isASCII && (ch.isNumber || (ch.isLetter && ch.isLowercase)) }
        guard let f = c.first, let l = c.last, alnum(f), alnum(l) else { return false }
        return c.allSatisfy { alnum($0) || "._-".contains($0) }
    }

    /// The host the distribution API is on.
    public var registryHost: String { domain == "docker.io" ? "registry-1.docker.io" : domain }

    /// What to ask the manifest endpoint for: the digest if pinned, else the tag.
    public var manifestReference: String { digest ?? tag ?? "latest" }

    /// `ubuntu:22.04`, `user/app:1`, `localhost:5000/app:latest`: how Docker
    /// shows a name (docker.io and library/ left out), with `@digest` when pinned.
    public var familiar: String {
        var name = domain == "docker.io" ? repository : "\(domain)/\(repository)"
        if domain == "docker.io", name.hasPrefix("library/"), !name.dropFirst(8).contains("/") { name = String(name.dropFirst(8)) }
        return name + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// `docker.io/library/ubuntu:22.04`, with `@digest` when pinned.
    public var description: String {
        "\(domain)/\(repository)" + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }
}

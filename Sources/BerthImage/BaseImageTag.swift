/// The official tags of Debian's and Ubuntu's images read as the suites
/// mmdebstrap bootstraps: `debian:12` is bookworm, `debian:stable-slim` is
/// the current stable, `debian:bookworm-20241111` is bookworm (today's, not
/// that day's snapshot), `ubuntu:24.04` is noble. Anything else is refused.
enum BaseImageTag {
    static let debianVersions = ["9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky"]
    static let debianCodenames: Set<String> = ["stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "sid"]
    /// The archive's own aliases: mmdebstrap resolves them to today's suite.
    static let debianAliases: Set<String> = ["stable", "oldstable", "oldoldstable", "testing", "unstable"]
    static let ubuntuVersions = ["20.04": "focal", "22.04": "jammy", "24.04": "noble", "24.10": "oracular", "25.04": "plucky", "25.10": "questing"]
    static var ubuntuCodenames: Set<String> { Set(ubuntuVersions.values) }

    /// The suite for `tag` of `distro` (`debian` or `ubuntu`), or the error naming what is accepted.
    static func suite(distro: String, tag: String) throws(StoreError) -> String {
        var t = Substring(tag)
        if t.hasSuffix("-slim") { t = t.dropLast(5) }
        // A dated tag (bookworm-20241111, 12-20241111): the suite of the name before the date.
        if let dash = t.lastIndex(of: "-"), t[t.index(after: dash)...].count == 8, t[t.index(after: dash)...].allSatisfy(\.isNumber) {
            t = t[..<dash]
        }
        let name = String(t)
        if distro == "ubuntu" {
            if name == "latest" { return "noble" }
            if ubuntuCodenames.contains(name) { return name }
            if let s = ubuntuVersions[name] { return s }
            throw StoreError("ubuntu:\(tag): not an Ubuntu tag berth can bootstrap: expected a codename (\(ubuntuCodenames.sorted().joined(separator: ", "))) or a version (\(ubuntuVersions.keys.sorted().joined(separator: ", ")))")
        }
        if name == "latest" { return "stable" }
        if debianCodenames.contains(name) || debianAliases.contains(name) { return name }
        // 12, or a point release (12.8): the suite of the major version.
        let major = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        if let s = debianVersions[major], name == major || name.dropFirst(major.count + 1).allSatisfy(\.isNumber) && name.count > major.count + 1 {
            return s
        }
        throw StoreError("debian:\(tag): not a Debian tag berth can bootstrap: expected a codename (\(debianCodenames.sorted().joined(separator: ", "))), "
                         + "a version (\(debianVersions.keys.sorted { Int($0)! < Int($1)! }.joined(separator: ", "))) or \(debianAliases.sorted().joined(separator: ", ")), "
                         + "each optionally with -slim or a -YYYYMMDD date")
    }
}

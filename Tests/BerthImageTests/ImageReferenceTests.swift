import Testing
@testable import BerthImage

/// Names normalised as Docker does (distribution/reference's rules).
@Suite struct ImageReferenceTests {
    /// text | domain | repository | tag | digest | registry host ("-" for none).
    static let cases = [
        "ubuntu|docker.io|library/ubuntu|latest|-|registry-1.docker.io",
        "ubuntu:22.04|docker.io|library/ubuntu|22.04|-|registry-1.docker.io",
        "user/app|docker.io|user/app|latest|-|registry-1.docker.io",
        "docker.io/library/node:20|docker.io|library/node|20|-|registry-1.docker.io",
        "index.docker.io/library/node:20|docker.io|library/node|20|-|registry-1.docker.io",
        "localhost:5000/team/app:v1|localhost:5000|team/app|v1|-|localhost:5000",
        "localhost/app|localhost|app|latest|-|localhost",
        "ghcr.io/org/img|ghcr.io|org/img|latest|-|ghcr.io",
        "127.0.0.1:5000/busybox|127.0.0.1:5000|busybox|latest|-|127.0.0.1:5000",
        "busybox@sha256:HEXAB|docker.io|library/busybox|-|sha256:HEXAB|registry-1.docker.io",
        "reg.example:443/a/b:t@sha256:ZERO|reg.example:443|a/b|t|sha256:ZERO|reg.example:443",
    ]

    @Test(arguments: cases)
    func normalises(_ row: String) throws {
        let fields = row.replacingOccurrences(of: "HEXAB", with: String(repeating: "ab", count: 32))
            .replacingOccurrences(of: "ZERO", with: String(repeating: "0", count: 64))
            .split(separator: "|").map { $0 == "-" ? nil : String($0) }
        let r = try ImageReference(parsing: fields[0]!)
        #expect(r.domain == fields[1] && r.repository == fields[2] && r.tag == fields[3] && r.digest == fields[4]
                && r.registryHost == fields[5], "\(r)")
    }

    @Test(arguments: ["", "upper/Case", "a//b", "app:", "app:-bad", "app@sha256:short", "app@md5:" + String(repeating: "0", count: 64), "-lead/x"])
    func rejects(_ text: String) {
        #expect(throws: StoreError.self) { try ImageReference(parsing: text) }
    }

    @Test func describesFullyQualified() throws {
        #expect(try ImageReference(parsing: "ubuntu").description == "docker.io/library/ubuntu:latest")
        #expect(try ImageReference(parsing: "localhost:5000/x:1").manifestReference == "1")
    }
}

import BerthACME
import BerthTestSupport
import Foundation
import Testing

/// Serves HTTP-01 key authorizations on 127.0.0.1:PORT the way the proxy
/// will: GET /.well-known/acme-challenge/TOKEN answers the published value.
final class ChallengeFiles: ACMEChallengeAnswerer, @unchecked Sendable {
    let root: String
    private let server: Process

    init(port: Int) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-http01-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/.well-known/acme-challenge", withIntermediateDirectories: true)
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", root]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        for _ in 0..<100 {
            if (try? PebbleServer.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])) != nil { return }
            usleep(50_000)
        }
    }

    let published = NSLock()
    var tokens: [String] = []

    func publish(http01Token token: String, keyAuthorization: String) {
        published.withLock { tokens.append(token) }
        FileManager.default.createFile(atPath: "\(root)/.well-known/acme-challenge/\(token)", contents: Data(keyAuthorization.utf8))
    }

    func withdraw(http01Token token: String) {
        try? FileManager.default.removeItem(atPath: "\(root)/.well-known/acme-challenge/\(token)")
    }

    deinit {
        kill(server.processIdentifier, SIGKILL)  // SIGTERM may be blocked in what the test runner passes on
        server.waitUntilExit()
        try? FileManager.default.removeItem(atPath: root)
    }
}

@Suite(.serialized) struct ACMEClientTests {
    @Test func keysSignAsJWSAndCSRsNameEveryHost() throws {
        let key = try ACMEKey.generate()
        let again = try ACMEKey(pem: key.pem)
        #expect(try again.jwk() == key.jwk(), "a key read back from its PEM is the same key")
        #expect(try key.thumbprint().count == 43)
        // The ES256 signature verifies with OpenSSL (as DER, from r || s).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-jws-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let message = Data("eyJhbGciOiJFUzI1NiJ9.e30".utf8)
        let sig = try key.signES256(message)
        #expect(sig.count == 64)
        try key.pem.write(toFile: dir + "/key.pem", atomically: true, encoding: .utf8)
        try message.write(to: URL(fileURLWithPath: dir + "/msg"))
        try Self.der(sig).write(to: URL(fileURLWithPath: dir + "/sig"))
        try PebbleServer.run("/usr/bin/openssl", ["pkey", "-in", dir + "/key.pem", "-pubout", "-out", dir + "/pub.pem"])
        let verified = try PebbleServer.run("/usr/bin/openssl", ["dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig", dir + "/msg"])
        #expect(verified.contains("Verified OK"))
        // A CSR for two names carries both as DNS SANs and is signed by the key.
        try key.csr(for: ["a.example.test", "b.example.test"]).write(to: URL(fileURLWithPath: dir + "/csr.der"))
        let text = try PebbleServer.run("/usr/bin/openssl", ["req", "-inform", "DER", "-in", dir + "/csr.der", "-noout", "-text", "-verify"])
        #expect(text.contains("DNS:a.example.test, DNS:b.example.test") && text.contains("CN = a.example.test"), "\(text)")
        #expect(try ACMEKey.generate(.rsa2048).pem.contains("BEGIN PRIVATE KEY"))
        #expect(throws: ACMEError.self) { try ACMEKey(pem: "not a key") }
    }

    /// r || s → DER SEQUENCE { INTEGER r, INTEGER s } for openssl dgst.
    static func der(_ sig: Data) -> Data {
        func integer(_ b: Data) -> Data {
            var v = Data(b.drop { $0 == 0 })
            if v.isEmpty { v = Data([0]) }
            if v.first! & 0x80 != 0 { v.insert(0, at: 0) }
            return Data([0x02, UInt8(v.count)]) + v
        }
        let body = integer(sig.prefix(32)) + integer(sig.suffix(32))
        return Data([0x30, UInt8(body.count)]) + body
    }

    @Test func issuesACertificateFromPebbleOverHTTP01() throws {
        let pebble = try PebbleServer()
        let files = try ChallengeFiles(port: pebble.httpPort)
        let client = ACMEClient(directory: pebble.directory, accountKey: try ACMEKey.generate(), caFile: pebble.caFile)
        try client.account(email: "ops@example.test")
        #expect(client.accountURL?.hasPrefix("https://127.0.0.1") == true)
        let cert = try client.issue(["app.example.test", "www.example.test"], answerer: files)
        #expect(files.tokens.count == 2, "one HTTP-01 challenge per name")
        #expect(cert.chainPEM.components(separatedBy: "BEGIN CERTIFICATE").count >= 3, "leaf and issuer")
        let path = pebble.dir + "/leaf.pem"
        try cert.chainPEM.write(toFile: path, atomically: true, encoding: .utf8)
        let text = try PebbleServer.run("/usr/bin/openssl", ["x509", "-in", path, "-noout", "-text"])
        #expect(text.contains("DNS:app.example.test") && text.contains("DNS:www.example.test"))
        #expect(text.contains("id-ecPublicKey"), "a P-256 key by default")
        // The key belongs to the certificate.
        try cert.keyPEM.write(toFile: pebble.dir + "/leaf.key", atomically: true, encoding: .utf8)
        let certPub = try PebbleServer.run("/usr/bin/openssl", ["x509", "-in", path, "-noout", "-pubkey"])
        let keyPub = try PebbleServer.run("/usr/bin/openssl", ["pkey", "-in", pebble.dir + "/leaf.key", "-pubout"])
        #expect(certPub == keyPub)
        // The same account key finds its account again (no second account).
        let again = ACMEClient(directory: pebble.directory, accountKey: client.accountKeyForTests, caFile: pebble.caFile)
        try again.account(email: nil)
        #expect(again.accountURL == client.accountURL)
    }

    @Test func aChallengeNobodyAnswersFailsWithTheCAsDetail() throws {
        let pebble = try PebbleServer()
        final class Silent: ACMEChallengeAnswerer {
            func publish(http01Token: String, keyAuthorization: String) {}
            func withdraw(http01Token: String) {}
        }
        let client = ACMEClient(directory: pebble.directory, accountKey: try ACMEKey.generate(), caFile: pebble.caFile)
        try client.account(email: nil)
        do {
            _ = try client.issue(["nobody.example.test"], answerer: Silent())
            Issue.record("issued without an answer")
        } catch let e as ACMEError {
            #expect(e.message.contains("nobody.example.test") && e.problemType?.hasPrefix("urn:ietf:params:acme:error:") == true, "\(e) \(String(describing: e.problemType))")
        }
    }
}

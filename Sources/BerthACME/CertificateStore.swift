import CBerthCrypto
import Foundation

/// What berth keeps for ACME under the state dir (`acme/`): the account key
/// and, per name, the chain and its key (every file mode 0600 in 0700
/// directories, written to a temporary file and renamed, so a crash never
/// leaves half a key). A
/// restart reads them back and issues nothing that is still valid.
public final class CertificateStore: Sendable {
    public let root: String

    /// A stored certificate and when it is valid.
    public struct Stored: Sendable, Equatable {
        public var name: String
        public var chain: String
        public var key: String
        public var notBefore: Date
        public var notAfter: Date
        /// Who issued it (the leaf's issuer, one line).
        public var issuer: String

        /// Two thirds into its lifetime, as Let's Encrypt advises without ARI.
        public var renewAt: Date { notBefore.addingTimeInterval(notAfter.timeIntervalSince(notBefore) * 2 / 3) }
    }

    public init(root: String) {
        self.root = root
    }

    /// The account key for `directory` (one account per CA), made on first use.
    public func accountKey(for directory: String) throws -> ACMEKey {
        let dir = root + "/accounts/" + Self.safeName(directory)
        let path = dir + "/account.key"
        if let pem = try? String(contentsOfFile: path, encoding: .utf8) { return try ACMEKey(pem: pem) }
        let key = try ACMEKey.generate()
        try Self.write(key.pem, to: path, mode: 0o600)
        return key
    }

    public func certificate(for name: String) -> Stored? {
        let dir = root + "/certs/" + Self.safeName(name)
        guard let pem = try? String(contentsOfFile: dir + "/chain.pem", encoding: .utf8),
              FileManager.default.fileExists(atPath: dir + "/key.pem") else { return nil }
        var from: Int64 = 0, until: Int64 = 0
        guard cberth_cert_validity(pem, &from, &until) == 1 else { return nil }
        var issuer = [CChar](repeating: 0, count: 256)
        _ = cberth_cert_issuer(pem, &issuer, Int32(issuer.count))
        return Stored(name: name, chain: dir + "/chain.pem", key: dir + "/key.pem",
                      notBefore: Date(timeIntervalSince1970: TimeInterval(from)), notAfter: Date(timeIntervalSince1970: TimeInterval(until)),
                      issuer: String(decoding: issuer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Stores an issued certificate (the key first: a chain is never there without its key).
    @discardableResult
    public func save(_ cert: IssuedCertificate, for name: String) throws -> Stored {
        let dir = root + "/certs/" + Self.safeName(name)
        try Self.write(cert.keyPEM, to: dir + "/key.pem", mode: 0o600)
        try Self.write(cert.chainPEM, to: dir + "/chain.pem", mode: 0o600)
        guard let stored = certificate(for: name) else { throw ACMEError("\(name): the issued certificate cannot be read back") }
        return stored
    }

    /// Where the running serve says how each name stands (`berth certs`).
    public var statusFile: String { root + "/status.json" }

    public func writeStatus(_ rows: [CertificateStatus]) throws {
        let data = try JSONEncoder().encode(rows)
        try Self.write(String(decoding: data, as: UTF8.self), to: statusFile, mode: 0o600)
    }

    public func readStatus() throws -> [CertificateStatus]? {
        guard let data = FileManager.default.contents(atPath: statusFile) else { return nil }
        return try JSONDecoder().decode([CertificateStatus].self, from: data)
    }

    /// A name for a file: letters, digits, '.', '-' and '_' kept, the rest as '_'.
    static func safeName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw ACMEError("cannot write \(temp)")
        }
        guard rename(temp, path) == 0 else { throw ACMEError("cannot rename \(temp): \(String(cString: strerror(errno)))") }
    }
}

import CBerthCrypto
import Foundation

/// A private key berth keeps for ACME: the account key (EC P-256: it signs
/// every request as ES256) or a certificate's key (P-256 by default, RSA
/// 2048 as an option). Wraps OpenSSL's EVP_PKEY; immutable once made.
public final class ACMEKey: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case ecP256
        case rsa2048
    }

    private let key: OpaquePointer

    public static func generate(_ kind: Kind = .ecP256) throws -> ACMEKey {
        guard let k = cberth_key_generate(kind == .rsa2048 ? 2048 : 0) else { throw ACMEError("cannot generate a \(kind) key") }
        return ACMEKey(k)
    }

    public init(pem: String) throws {
        var error = [CChar](repeating: 0, count: 256)
        guard let k = cberth_key_from_pem(pem, &error) else {
            throw ACMEError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        key = k
    }

    private init(_ k: OpaquePointer) { key = k }

    deinit { cberth_key_free(key) }

    /// PKCS#8 PEM (to store with mode 0600).
    public var pem: String {
        guard let p = cberth_key_pem(key) else { return "" }
        defer { cberth_free(p) }
        return String(cString: p)
    }

    /// The JWS signature of `data`: ES256, 64 bytes r || s.
    public func signES256(_ data: Data) throws -> Data {
        var out = [UInt8](repeating: 0, count: 64)
        let ok = data.withUnsafeBytes { cberth_key_sign_es256(key, $0.baseAddress, $0.count, &out) }
        guard ok == 1 else { throw ACMEError("ES256 signing failed (is this an EC P-256 key?)") }
        return Data(out)
    }

    /// The public key as a JWK, members in the lexicographic order RFC 7638's thumbprint needs.
    public func jwk() throws -> String {
        var x = [UInt8](repeating: 0, count: 32), y = [UInt8](repeating: 0, count: 32)
        guard cberth_key_ec_public(key, &x, &y) == 1 else { throw ACMEError("not an EC P-256 key") }
        return #"{"crv":"P-256","kty":"EC","x":"\#(Base64URL.encode(Data(x)))","y":"\#(Base64URL.encode(Data(y)))"}"#
    }

    /// RFC 7638: base64url(SHA-256(JWK)), the account's part of each key authorization.
    public func thumbprint() throws -> String {
        Base64URL.encode(SHA256Digest.of(Data(try jwk().utf8)))
    }

    /// A DER PKCS#10 request for `names` (the first the CN, all DNS SANs), signed by this key.
    public func csr(for names: [String]) throws -> Data {
        var error = [CChar](repeating: 0, count: 256)
        var length: Int32 = 0
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let pointers = cNames.map { UnsafePointer($0) }
        let der = pointers.withUnsafeBufferPointer { cberth_csr_der(key, $0.baseAddress, Int32(names.count), &length, &error) }
        guard let der else {
            throw ACMEError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { cberth_free(der) }
        return Data(bytes: der, count: Int(length))
    }
}

/// SHA-256 through libcrypto.
enum SHA256Digest {
    static func of(_ data: Data) -> Data {
        let h = cberth_sha256_new()
        data.withUnsafeBytes { cberth_sha256_update(h, $0.baseAddress, $0.count) }
        var out = [UInt8](repeating: 0, count: 32)
        cberth_sha256_finish(h, &out)
        return Data(out)
    }
}

import CBerthCrypto
import CBerthTLS
import Dispatch
import Synchronization

/// The HTTP-01 key authorizations the control plane is having validated,
/// by token, shared by every worker. Plain listeners answer
/// `GET /.well-known/acme-challenge/TOKEN` from here before routing and
/// before `redirect-https` (RFC 8555 §8.3). Empty nearly always: a request
/// checks one relaxed counter before it takes the lock. TLS-ALPN-01
/// challenge contexts (RFC 8737) are kept here too, by name, for the `tls
/// auto` listeners' ClientHello callback.
final class ACMEChallenges: Sendable {
    private let tokens = Mutex<[String: String]>([:])
    private let count = Atomic<Int>(0)
    private let alpn = Mutex<(live: [String: ChallengeContext], retired: [(ChallengeContext, DispatchTime)])>(([:], []))

    /// One challenge certificate's OpenSSL context (freed with it; a
    /// handshake that switched to it holds its own reference).
    final class ChallengeContext: @unchecked Sendable {
        let ctx: OpaquePointer
        init(_ ctx: OpaquePointer) { self.ctx = ctx }
        deinit { cberth_tls_context_free(ctx) }
    }

    /// Serves (or, with nil, stops serving) the TLS-ALPN-01 certificate for `name`.
    func setALPN(_ name: String, _ keyAuthorization: String?) throws {
        var made: ChallengeContext?
        if let keyAuthorization {
            let h = cberth_sha256_new()
            var bytes = Array(keyAuthorization.utf8)
            cberth_sha256_update(h, &bytes, bytes.count)
            var digest = [UInt8](repeating: 0, count: 32)
            cberth_sha256_finish(h, &digest)
            var error = [CChar](repeating: 0, count: 256)
            guard let ctx = cberth_tls_alpn_challenge_context(name, digest, &error, Int32(error.count)) else {
                throw ProxyError("tls-alpn-01 \(name): " + String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            made = ChallengeContext(ctx)
        }
        alpn.withLock { a in
            // A context a callback may have just picked lives on a minute after it is withdrawn.
            let now = DispatchTime.now()
            a.retired.removeAll { now.uptimeNanoseconds > $0.1.uptimeNanoseconds + 60_000_000_000 }
            if let old = a.live[name] { a.retired.append((old, now)) }
            a.live[name] = made
        }
    }

    /// The challenge context for a ClientHello's server name (an OpenSSL callback, any worker).
    func alpnContext(for name: String) -> OpaquePointer? {
        alpn.withLock { $0.live[name.lowercased()]?.ctx }
    }

    static let prefix = Array("/.well-known/acme-challenge/".utf8)

    func set(_ token: String, _ keyAuthorization: String?) {
        tokens.withLock { t in
            t[token] = keyAuthorization
            count.store(t.count, ordering: .relaxed)
        }
    }

    var isEmpty: Bool { count.load(ordering: .relaxed) == 0 }

    /// The key authorization for a request path, if it is a challenge's.
    func answer(path: UnsafeRawBufferPointer) -> String? {
        guard path.count > Self.prefix.count, path.starts(with: Self.prefix) else { return nil }
        let token = String(decoding: path[Self.prefix.count...], as: UTF8.self)
        return tokens.withLock { $0[token] }
    }
}

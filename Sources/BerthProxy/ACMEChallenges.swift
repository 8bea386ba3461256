import Synchronization

/// The HTTP-01 key authorizations the control plane is having validated,
/// by token, shared by every worker. Plain listeners answer
/// `GET /.well-known/acme-challenge/TOKEN` from here before routing and
/// before `redirect-https` (RFC 8555 §8.3). Empty nearly always: a request
/// checks one relaxed counter before it takes the lock.
final class ACMEChallenges: Sendable {
    private let tokens = Mutex<[String: String]>([:])
    private let count = Atomic<Int>(0)

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

import CBerthCrypto
import CBerthTLS
import Dispatch
import Logging
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
    private let logger: Logger
    /// Names whose refused handshakes were logged (once each, until their
    /// certificate is installed).
    private let refusedLogged = Mutex<Set<String>>([])

    init(logger: Logger) {
        self.logger = logger
    }

    /// A handshake for `name` was refused: it has no certificate yet. The
    /// first one is logged; the rest are not (a browser retries often).
    func noteRefusedHandshake(_ name: String) {
        guard refusedLogged.withLock({ $0.insert(name).inserted }) else { return }
        logger.warning("HTTPS handshakes refused until a certificate is issued", metadata: ["name": "\(name)"])
    }

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

    // MARK: - on-demand names

    /// `acme { on-demand ask ... }`: the control plane's handler, told of names
    /// a handshake asked for and no certificate covers.
    private let onDemand = Mutex<(handler: (@Sendable (String) -> Void)?, asked: [String: (at: DispatchTime, refused: Bool)], sets: [TLSContextSet])>((nil, [:], []))
    private let onDemandOn = Atomic<Bool>(false)

    var onDemandEnabled: Bool { onDemandOn.load(ordering: .relaxed) }

    func setOnDemandHandler(_ handler: (@Sendable (String) -> Void)?) {
        onDemand.withLock { $0.handler = handler }
        onDemandOn.store(handler != nil, ordering: .relaxed)
    }

    /// The `tls auto` listeners' current sets (a suspended handshake resumed
    /// after an issuance switches to the new set's context for its name).
    func setCurrentSets(_ sets: [TLSContextSet]) {
        onDemand.withLock { $0.sets = sets }
        // A name that got its certificate is logged again if it is ever refused again.
        let awaited = sets.reduce(into: Set<String>()) { $0.formUnion($1.awaitedNames) }
        refusedLogged.withLock { $0.formIntersection(awaited) }
    }

    func issuedContext(for name: String) -> OpaquePointer? {
        onDemand.withLock { o in o.sets.lazy.compactMap { $0.context(for: name) }.first }
    }

    /// Tells the handler of `name` once per minute; true while a certificate
    /// for it is being got (the handshake waits), false when it was refused
    /// in the last minute (the handshake goes on with the default certificate).
    func requestCertificate(_ name: String) -> Bool {
        let (handler, ask) = onDemand.withLock { o -> ((@Sendable (String) -> Void)?, Bool?) in
            let now = DispatchTime.now()
            if let a = o.asked[name], now.uptimeNanoseconds < a.at.uptimeNanoseconds + 60_000_000_000 {
                return (o.handler, a.refused ? nil : false)
            }
            o.asked[name] = (now, false)
            return (o.handler, true)
        }
        guard let handler, let ask else { return false }
        if ask { DispatchQueue.global().async { handler(name) } }
        return true
    }

    /// The control plane will not get one for `name` (not allowed, over the
    /// cap, or the order failed): waiting handshakes for it go on at once.
    func refuse(_ name: String) {
        onDemand.withLock { $0.asked[name] = (DispatchTime.now(), true) }
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

#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import CBerthTLS

/// The certificates one TLS listener serves: a default context and, for SNI,
/// one per host name. Built (files read, key checked) when the config is
/// loaded or reloaded; immutable afterwards and shared by every worker
/// (OpenSSL contexts are safe to use from several threads). Connections keep
/// the set they started with alive, so a reload's new certificates serve new
/// connections while old ones finish on the old.
final class TLSContextSet: @unchecked Sendable {
    /// nil: no certificate yet (a `tls auto` listener before its first
    /// issuance): every handshake is refused.
    private let defaultContext: OpaquePointer?
    private let byHost: [String: OpaquePointer]
    /// Every context made (one per site), freed with the set.
    private let contexts: [OpaquePointer]
    /// What the set was made from (a reload with the same files and mtimes reuses it).
    let fingerprint: String
    /// A `tls auto` listener's names with no certificate yet: their
    /// handshakes are refused (unrecognized_name), not answered with
    /// another name's certificate.
    private let awaited: Set<String>

    /// `sites` are (host, cert, key); `defaultHost` picks the context for
    /// clients that send no (or an unknown) server name.
    /// TLS-ALPN-01 challenges (a `tls auto` listener's), switched to by the ClientHello callback.
    private let challenges: ACMEChallenges?

    init(sites: [(host: String, cert: String, key: String)], defaultHost: String, minVersion: String?,
         challenges: ACMEChallenges? = nil, awaited: Set<String> = []) throws(ProxyError) {
        self.challenges = challenges
        self.awaited = challenges == nil ? [] : awaited
        var made: [OpaquePointer] = []
        var byHost: [String: OpaquePointer] = [:]
        do {
            for s in sites {
                let ctx = try Self.context(cert: s.cert, key: s.key, minVersion: minVersion)
                made.append(ctx)
                byHost[s.host.lowercased()] = ctx
            }
        } catch {
            made.forEach { cberth_tls_context_free($0) }
            throw error
        }
        if sites.isEmpty {
            // No certificate yet: only a challenge handshake can succeed.
            if challenges != nil, let empty = cberth_tls_context_new_empty(minVersion == "1.3" ? 13 : 12) {
                made.append(empty)
                defaultContext = empty
            } else {
                defaultContext = nil
            }
        } else {
            guard let d = byHost[defaultHost.lowercased()] else {
                made.forEach { cberth_tls_context_free($0) }
                throw ProxyError("tls: default \(defaultHost) has no certificate")
            }
            defaultContext = d
        }
        self.byHost = byHost
        contexts = made
        fingerprint = Self.fingerprint(sites: sites, defaultHost: defaultHost, minVersion: minVersion, awaited: awaited)
        if challenges != nil {
            // As the SNI picker below: `arg` is this set, unretained.
            let me = Unmanaged.passUnretained(self).toOpaque()
            for ctx in made {
                cberth_tls_context_set_challenge_picker(ctx, { name, arg in
                    let set = Unmanaged<TLSContextSet>.fromOpaque(arg!).takeUnretainedValue()
                    return set.challenges?.alpnContext(for: String(cString: name!))
                }, { name, arg, found in
                    let set = Unmanaged<TLSContextSet>.fromOpaque(arg!).takeUnretainedValue()
                    return set.onDemand(String(cString: name!).lowercased(), found)
                }, me)
            }
        }
        if made.count > 1 {
            // The callback captures nothing: it finds this set through `arg`
            // (unretained; every context lives exactly as long as this set).
            let me = Unmanaged.passUnretained(self).toOpaque()
            for ctx in made {
                cberth_tls_context_set_sni(ctx, { name, arg in
                    let set = Unmanaged<TLSContextSet>.fromOpaque(arg!).takeUnretainedValue()
                    return set.byHost[String(cString: name!).lowercased()]
                }, me)
            }
        }
    }

    deinit {
        contexts.forEach { cberth_tls_context_free($0) }
    }

    /// Names the files (with their modification times) and settings a set
    /// would be made from, so a reload can tell it need not read them again.
    static func fingerprint(sites: [(host: String, cert: String, key: String)], defaultHost: String, minVersion: String?,
                            awaited: Set<String> = []) -> String {
        sites.map { "\($0.host)|\($0.cert)|\($0.key)|\(mtime($0.cert))|\(mtime($0.key))" }.joined(separator: ";")
            + "|\(defaultHost.lowercased())|\(minVersion ?? "1.2")|" + awaited.sorted().joined(separator: ",")
    }

    /// A ClientHello's decision for a name (OpenSSL's callback, any worker):
    /// 0 go on (this set has it, or on-demand is off: the default
    /// certificate answers), 1 switch to a newer set's certificate for it,
    /// 2 suspend while the control plane is asked for one, 3 refuse: one of
    /// the listener's names whose certificate is not issued yet (logged once).
    func onDemand(_ name: String, _ found: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
        guard let challenges, byHost[name] == nil else { return 0 }
        let waitingFor = awaited.contains(name)
        guard waitingFor || challenges.onDemandEnabled else { return 0 }
        if let ctx = challenges.issuedContext(for: name) {
            found?.pointee = ctx
            return 1
        }
        if waitingFor {
            challenges.noteRefusedHandshake(name)
            return 3
        }
        return challenges.requestCertificate(name) ? 2 : 0
    }

    /// The names this set refuses until their certificates come.
    var awaitedNames: Set<String> { awaited }

    /// A `tls auto` listener's set (it answers challenges and on-demand names).
    var servesACME: Bool { challenges != nil }

    /// The context for `name`, if this set has one.
    func context(for name: String) -> OpaquePointer? { byHost[name] }

    /// A session for an accepted connection (offering ALPN h2 with `h2`).
    func session(fd: Int32, h2: Bool = false) -> TLSSession? {
        guard let defaultContext, let ssl = cberth_tls_new(defaultContext, fd) else { return nil }
        if h2 { cberth_tls_offer_h2(ssl) }
        return TLSSession(ssl: ssl, contexts: self)
    }

    private static func context(cert: String, key: String, minVersion: String?) throws(ProxyError) -> OpaquePointer {
        var error = [CChar](repeating: 0, count: 512)
        guard let ctx = cberth_tls_context_new(cert, key, minVersion == "1.3" ? 13 : 12, &error, Int32(error.count)) else {
            let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ProxyError("tls \(cert): \(why)")
        }
        return ctx
    }

    private static func mtime(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec) : 0
    }
}

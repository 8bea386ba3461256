import Foundation

/// Answers a CA's challenges while an order is being validated: berth's
/// proxy publishes HTTP-01 key authorizations at
/// `/.well-known/acme-challenge/TOKEN` (and TLS-ALPN-01 certificates).
public protocol ACMEChallengeAnswerer: Sendable {
    func publish(http01Token token: String, keyAuthorization: String)
    func withdraw(http01Token token: String)
    /// TLS-ALPN-01 (RFC 8737): serve the challenge certificate for `name`.
    func publish(tlsALPN01Name name: String, keyAuthorization: String) throws
    func withdraw(tlsALPN01Name name: String)
}

extension ACMEChallengeAnswerer {
    public func publish(tlsALPN01Name name: String, keyAuthorization: String) throws {
        throw ACMEError("\(name): this answerer has no TLS-ALPN-01")
    }
    public func withdraw(tlsALPN01Name name: String) {}
}

/// A certificate as the CA issued it: the PEM chain (leaf first) and its key.
public struct IssuedCertificate: Sendable {
    public var chainPEM: String
    public var keyPEM: String
}

/// An RFC 8555 client: the directory, nonces, JWS-signed requests (ES256 with
/// the account key), the account, orders, HTTP-01 challenges, finalization
/// with a CSR and the chain's download. Blocking: run it off the event loops.
public final class ACMEClient: @unchecked Sendable {
    public let directoryURL: String
    let accountKey: ACMEKey
    let http: ACMEHTTP
    private var directory: [String: Any] = [:]
    private var nonce: String?
    /// The account URL (the JWS `kid`), once the account exists.
    public private(set) var accountURL: String?
    /// How long an authorization or an order may take to become valid.
    public var pollTimeout: Double = 60

    /// The account key (to store, and for tests that open the account again).
    public var accountKeyForTests: ACMEKey { accountKey }

    public init(directory: String, accountKey: ACMEKey, caFile: String? = nil) {
        directoryURL = directory
        self.accountKey = accountKey
        http = ACMEHTTP(caFile: caFile)
    }

    /// Creates the account for the key, or finds the one it has (RFC 8555 §7.3).
    public func account(email: String?) throws {
        var payload: [String: Any] = ["termsOfServiceAgreed": true]
        if let email { payload["contact"] = ["mailto:\(email)"] }
        let r = try post(try endpoint("newAccount"), payload: payload, useJWK: true)
        guard r.status == 200 || r.status == 201, let kid = r.headers["location"] else {
            throw problem(r, "account")
        }
        accountURL = kid
    }

    /// Orders a certificate for `names`, answers each authorization's HTTP-01
    /// challenge through `answerer`, finalizes with a new key's CSR and
    /// downloads the chain.
    /// `replaces`: the ARI id of the certificate this one renews (RFC 9773
    /// §5), so the CA can tie them together; only sent to a CA that offers ARI.
    public func issue(_ names: [String], keyKind: ACMEKey.Kind = .ecP256, challenges: [String] = ["http-01"],
                      replaces: String? = nil, answerer: any ACMEChallengeAnswerer) throws -> IssuedCertificate {
        if accountURL == nil { throw ACMEError("no account: call account(email:) first") }
        var newOrder: [String: Any] = ["identifiers": names.map { ["type": "dns", "value": $0] }]
        if let replaces, try offersRenewalInfo() { newOrder["replaces"] = replaces }
        let order = try post(try endpoint("newOrder"), payload: newOrder)
        guard order.status == 201, let orderURL = order.headers["location"], let body = order.json,
              let authorizations = body["authorizations"] as? [String], let finalize = body["finalize"] as? String else {
            throw problem(order, "new order")
        }
        for authz in authorizations { try authorize(authz, challenges: challenges, answerer: answerer) }
        let key = try ACMEKey.generate(keyKind)
        let csr = try key.csr(for: names)
        let fin = try post(finalize, payload: ["csr": Base64URL.encode(csr)])
        guard fin.status == 200 else { throw problem(fin, "finalize") }
        let valid = try poll(orderURL, what: "order") { $0["status"] as? String == "valid" ? true : $0["status"] as? String == "invalid" ? false : nil }
        guard let certURL = valid["certificate"] as? String else { throw ACMEError("the order is valid but names no certificate") }
        let cert = try post(certURL, payload: nil, accept: "application/pem-certificate-chain")
        guard cert.status == 200, let pem = String(data: cert.body, encoding: .utf8), pem.contains("BEGIN CERTIFICATE") else {
            throw problem(cert, "certificate download")
        }
        return IssuedCertificate(chainPEM: pem, keyPEM: key.pem)
    }

    /// Whether the CA's directory names a `renewalInfo` resource (RFC 9773).
    public func offersRenewalInfo() throws -> Bool {
        try loadDirectory()
        return directory["renewalInfo"] is String
    }

    /// The CA's suggested renewal window for a certificate (an unsigned GET,
    /// RFC 9773 §4); nil when the CA offers no renewal information or the
    /// certificate has no id it could know it by.
    public func renewalInfo(forPEM pem: String) throws -> RenewalInfo? {
        guard try offersRenewalInfo(), let base = directory["renewalInfo"] as? String,
              let id = RenewalInfo.certificateID(ofPEM: pem) else { return nil }
        let url = (base.hasSuffix("/") ? base : base + "/") + id
        let r = try http.request("GET", url)
        guard r.status == 200 else { throw problem(r, "renewal information") }
        return try RenewalInfo.parse(r.body, retryAfter: r.headers["retry-after"])
    }

    /// Answers the first of `preferred` the CA offers for this authorization.
    private func authorize(_ url: String, challenges preferred: [String], answerer: any ACMEChallengeAnswerer) throws {
        let r = try post(url, payload: nil)
        guard r.status == 200, let a = r.json else { throw problem(r, "authorization") }
        if a["status"] as? String == "valid" { return }
        let name = (a["identifier"] as? [String: Any])?["value"] as? String ?? "?"
        let offered = a["challenges"] as? [[String: Any]] ?? []
        guard let (kind, c) = preferred.lazy.compactMap({ k in offered.first { $0["type"] as? String == k }.map { (k, $0) } }).first,
              let token = c["token"] as? String, let challengeURL = c["url"] as? String else {
            throw ACMEError("\(name): the CA offers none of \(preferred.joined(separator: ", "))")
        }
        let keyAuthorization = token + "." + (try accountKey.thumbprint())
        if kind == "tls-alpn-01" {
            try answerer.publish(tlsALPN01Name: name, keyAuthorization: keyAuthorization)
        } else {
            answerer.publish(http01Token: token, keyAuthorization: keyAuthorization)
        }
        defer {
            if kind == "tls-alpn-01" { answerer.withdraw(tlsALPN01Name: name) } else { answerer.withdraw(http01Token: token) }
        }
        let go = try post(challengeURL, payload: [String: Any]())
        guard go.status == 200 else { throw problem(go, "\(name): \(kind) challenge") }
        _ = try poll(url, what: "\(name): authorization (\(kind))") { body in
            switch body["status"] as? String {
            case "valid": return true
            case "invalid", "deactivated", "expired", "revoked": return false
            default: return nil
            }
        }
    }

    /// POST-as-GET `url` until `done` says true (or false: failed) or the timeout.
    private func poll(_ url: String, what: String, _ done: ([String: Any]) -> Bool?) throws -> [String: Any] {
        let end = Date().addingTimeInterval(pollTimeout)
        var wait = 0.2
        while true {
            let r = try post(url, payload: nil)
            guard r.status == 200, let body = r.json else { throw problem(r, what) }
            switch done(body) {
            case .some(true): return body
            case .some(false):
                let detail = Self.detail(of: body)
                throw ACMEError("\(what) failed: \(detail.message)", problemType: detail.type)
            case .none:
                guard Date() < end else { throw ACMEError("\(what): still \(body["status"] ?? "pending") after \(Int(pollTimeout))s") }
                let retry = r.headers["retry-after"].flatMap(Double.init) ?? wait
                Thread.sleep(forTimeInterval: min(retry, 5))
                wait = min(wait * 2, 2)
            }
        }
    }

    /// The problem of a failed object: its own `error`, or a challenge's.
    static func detail(of body: [String: Any]) -> (message: String, type: String?) {
        var error = body["error"] as? [String: Any]
        if error == nil, let challenges = body["challenges"] as? [[String: Any]] {
            error = challenges.lazy.compactMap { $0["error"] as? [String: Any] }.first
        }
        let type = error?["type"] as? String
        let detail = error?["detail"] as? String ?? "status \(body["status"] ?? "?")"
        return (detail, type)
    }

    private func problem(_ r: ACMEHTTP.Response, _ what: String) -> ACMEError {
        let body = r.json
        let type = body?["type"] as? String
        let detail = body?["detail"] as? String ?? String(decoding: r.body.prefix(200), as: UTF8.self)
        return ACMEError("\(what): HTTP \(r.status): \(detail)", problemType: type)
    }

    // MARK: - requests

    private func loadDirectory() throws {
        guard directory.isEmpty else { return }
        let r = try http.request("GET", directoryURL)
        guard r.status == 200, let d = r.json else { throw problem(r, "directory \(directoryURL)") }
        directory = d
    }

    private func endpoint(_ name: String) throws -> String {
        try loadDirectory()
        guard let url = directory[name] as? String else { throw ACMEError("the directory has no \(name)") }
        return url
    }

    private func freshNonce() throws -> String {
        if let n = nonce {
            nonce = nil
            return n
        }
        let r = try http.request("HEAD", try endpoint("newNonce"))
        guard let n = r.headers["replay-nonce"] else { throw problem(r, "new nonce") }
        return n
    }

    /// A JWS-signed POST (`payload` nil: POST-as-GET). A `badNonce` (a CA may
    /// reject any nonce, RFC 8555 §6.5) is retried with the nonce it sent, up to 10 times.
    private func post(_ url: String, payload: Any?, useJWK: Bool = false, accept: String? = nil) throws -> ACMEHTTP.Response {
        var attempt = 0
        while true {
            attempt += 1
            var protected: [String: Any] = ["alg": "ES256", "nonce": try freshNonce(), "url": url]
            if useJWK || accountURL == nil {
                protected["jwk"] = try JSONSerialization.jsonObject(with: Data(try accountKey.jwk().utf8))
            } else {
                protected["kid"] = accountURL!
            }
            let p64 = Base64URL.encode(try JSONSerialization.data(withJSONObject: protected, options: [.sortedKeys]))
            let body64 = try payload.map { Base64URL.encode(try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys])) } ?? ""
            let signature = try accountKey.signES256(Data("\(p64).\(body64)".utf8))
            let jws: [String: Any] = ["protected": p64, "payload": body64, "signature": Base64URL.encode(signature)]
            var headers = ["Content-Type: application/jose+json"]
            if let accept { headers.append("Accept: \(accept)") }
            let r = try http.request("POST", url, headers: headers, body: try JSONSerialization.data(withJSONObject: jws))
            nonce = r.headers["replay-nonce"]
            if r.status == 400, r.json?["type"] as? String == "urn:ietf:params:acme:error:badNonce", attempt < 10 { continue }
            return r
        }
    }
}

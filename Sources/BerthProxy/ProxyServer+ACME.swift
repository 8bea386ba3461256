import BerthConfig
import BerthRouting

extension ProxyServer {
    public func answerHTTP01(token: String, keyAuthorization: String?) {
        acmeChallenges.set(token, keyAuthorization)
    }

    public func answerTLSALPN01(name: String, keyAuthorization: String?) throws {
        try acmeChallenges.setALPN(name.lowercased(), keyAuthorization)
    }

    public func setOnDemandHandler(_ handler: (@Sendable (String) -> Void)?) {
        acmeChallenges.setOnDemandHandler(handler)
    }

    public func refuseOnDemand(_ name: String) {
        acmeChallenges.refuse(name.lowercased())
        for w in workers { w.send(.resumeHandshakes) }
    }

    /// The TLS part of a reload: new contexts for the `tls auto` listeners,
    /// the same table and settings, every worker switched (or none).
    public func installCertificates(_ certificates: [String: CertificateFiles]) throws {
        try control.withLock { _ throws in
            let previous = acmeCertificates
            acmeCertificates = certificates
            do {
                try republishTLS()
            } catch {
                acmeCertificates = previous
                throw error
            }
        }
    }
}

/// `acme { }`: where `listen ... tls auto` gets its certificates (RFC 8555),
/// and as whom.
public struct ACMEConfig: Sendable, Equatable {
    public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
    public static let letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"

    public enum Challenge: String, Sendable, Equatable {
        case http01 = "http-01"
        case tlsALPN01 = "tls-alpn-01"
    }

    public enum KeyType: String, Sendable, Equatable {
        case ecdsa = "p256"
        case rsa2048
    }

    public var email: String?
    public var directory = ACMEConfig.letsEncrypt
    /// Trust for the ACME server itself (a private CA, tests); nil: the system's.
    public var caRoot: String?
    /// Which challenges to try, in order.
    public var challenges: [Challenge] = [.tlsALPN01, .http01]
    public var keyType = KeyType.ecdsa
    /// `on-demand ask URL [per-hour N]`: names no config names get a
    /// certificate at their first handshake if URL?domain=NAME answers 2xx.
    public var onDemandAsk: String?
    /// At most this many on-demand names are ordered per hour.
    public var onDemandPerHour = 10

    public init() {}
}

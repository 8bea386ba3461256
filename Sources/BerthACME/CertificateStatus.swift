import Foundation

/// One name of a `tls auto` listener as `berth certs` lists it.
public struct CertificateStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case valid, pending, failing
    }

    public var name: String
    public var state: State
    public var issuer: String?
    /// valid: until when; the next renewal.
    public var notAfter: Date?
    public var renewAt: Date?
    /// failing: since when, the CA's problem detail, the next try.
    public var since: Date?
    public var detail: String?
    public var retryAt: Date?

    public init(name: String, state: State) {
        self.name = name
        self.state = state
    }
}

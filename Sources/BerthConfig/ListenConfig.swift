/// One `listen` line: an address and, for HTTPS, its certificate.
public struct ListenConfig: Sendable, Equatable {
    public struct TLS: Sendable, Equatable {
        /// nil: the certificates of the `tls { }` block (SNI).
        public var cert: String?
        public var key: String?
        public var minVersion: String?
        /// `tls auto`: certificates from the `acme` CA for the apps' hosts.
        public var auto = false
        /// ALPN offers `h2` before `http/1.1` (`h2=off`: HTTP/1.1 only).
        public var h2 = true

        public init(cert: String?, key: String?, minVersion: String? = nil, auto: Bool = false) {
            self.cert = cert
            self.key = key
            self.minVersion = minVersion
            self.auto = auto
        }
    }

    public var address: HostPort
    public var tls: TLS?
    /// `listen ADDR h2c`: cleartext HTTP/2 with prior knowledge (gRPC clients
    /// inside a network), beside HTTP/1.1 on the same port.
    public var h2c = false
    public var location: SourceLocation
}

/// One `cert HOST CERT KEY` line of the `tls { }` block.
public struct TLSSite: Sendable, Equatable {
    public var host: String
    public var cert: String
    public var key: String
    public var location: SourceLocation

    public init(host: String, cert: String, key: String, location: SourceLocation) {
        self.host = host
        self.cert = cert
        self.key = key
        self.location = location
    }
}

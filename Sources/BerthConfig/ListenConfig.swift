/// One `listen` line: an address and, for HTTPS, its certificate.
public struct ListenConfig: Sendable, Equatable {
    public struct TLS: Sendable, Equatable {
        public var cert: String
        public var key: String
        public var minVersion: String?

        public init(cert: String, key: String, minVersion: String? = nil) {
            self.cert = cert
            self.key = key
            self.minVersion = minVersion
        }
    }

    public var address: HostPort
    public var tls: TLS?
    public var location: SourceLocation
}

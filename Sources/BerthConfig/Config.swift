/// The whole of proxy.conf as typed values: what `berth serve` should make true.
/// Immutable once parsed; a reload builds a new one.
public struct Config: Sendable, Equatable {
    public enum Workers: Sendable, Equatable {
        case auto
        case count(Int)
    }

    public enum AccessLog: Sendable, Equatable {
        case off
        case stdout
        case file(String)
    }

    public var file: String
    public var listens: [ListenConfig] = []
    public var workers: Workers = .auto
    public var stateDir: String?
    /// The OCI runtime for app containers: runc (default) or crun (berth
    /// falls back to runc when crun cannot start a container here).
    public var runtime = ContainerRuntime.runc
    /// Registries pulled from over plain HTTP (`registry HOST:PORT insecure`).
    public var insecureRegistries: Set<String> = []
    /// `tls { cert HOST CERT KEY }`: certificates by server name, for `listen ... tls` lines without their own.
    public var tlsSites: [TLSSite] = []
    /// `tls { default HOST }`; else the first cert line.
    public var tlsDefault: String?
    /// `tls { auto NAME... }`: names a `tls auto` listener gets certificates for besides the apps' hosts.
    public var tlsAutoNames: [String] = []
    /// `acme { }` (nil: none written; `tls auto` then uses the defaults).
    public var acme: ACMEConfig?
    /// `redirect-https on`: plain-HTTP requests get a 308 to the https URL (apps may override).
    public var redirectHTTPS = false
    /// Off unless configured, as in HAProxy (nginx logs by default; we chose quiet).
    public var accessLog: AccessLog = .off
    public var admin: HostPort?
    public var timeouts = Timeouts()
    public var limits = Limits()
    public var apps: [AppConfig] = []

    public init(file: String) {
        self.file = file
    }

    /// Whether some listener has `tls auto`.
    public var usesACME: Bool { listens.contains { $0.tls?.auto == true } }

    /// The names `tls auto` listeners need certificates for: every app's
    /// host and `tls { auto }`'s names, less those a static `cert` covers
    /// (a static certificate for a name wins). Sorted, without duplicates.
    public var acmeNames: [String] {
        guard usesACME else { return [] }
        let static_ = Set(tlsSites.map(\.host))
        return Set(apps.compactMap(\.host) + tlsAutoNames).subtracting(static_).sorted()
    }

    /// Parses proxy.conf text. `file` is only used in error locations.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Config {
        var parser = ConfigParser(file: file, text: text)
        return try parser.parse()
    }

    /// Parses proxy.conf text reusing the app blocks of the last good parse
    /// in `cache` whose text is unchanged (a reload of a large file).
    public static func parse(_ text: String, file: String, reusing cache: inout ConfigParseCache) throws(ConfigError) -> Config {
        var parser = ConfigParser(file: file, text: text)
        return try parser.parse(reusing: &cache)
    }

    /// Reads and parses a config file.
    public static func load(path: String) throws(ConfigError) -> Config {
        try parse(try text(at: path), file: path)
    }

    /// Reads and parses a config file, reusing unchanged app blocks from `cache`.
    public static func load(path: String, reusing cache: inout ConfigParseCache) throws(ConfigError) -> Config {
        try parse(try text(at: path), file: path, reusing: &cache)
    }

    private static func text(at path: String) throws(ConfigError) -> String {
        do {
            return try ConfigFile.contents(of: path)
        } catch {
            throw ConfigError(SourceLocation(file: path, line: 0, column: 0), error.message)
        }
    }
}

/// One `app NAME { }` block: where its traffic comes from (host, path) and
/// where it goes (containers built from `build`, or plain `upstream` servers).
public struct AppConfig: Sendable, Equatable {
    public enum Network: String, Sendable, Equatable {
        case isolated, host
    }

    /// The seccomp filter of the app's containers.
    public enum Seccomp: String, Sendable, Equatable {
        /// Docker's default profile.
        case `default`
        case unconfined
    }

    public enum Balance: String, Sendable, Equatable {
        case roundRobin = "roundrobin"
        case leastConn = "leastconn"
    }

    public var name: String
    public var location: SourceLocation
    /// Path prefix, matched on segment boundaries; no trailing slash except "/".
    public var path = "/"
    public var host: String?
    public var stripPrefix = true
    public var build: String?
    public var dockerfile: String?
    public var port: Int?
    public var replicas = 1
    public var health: HealthCheck?
    public var env: [EnvVar] = []
    public var memory: Int?
    public var cpus: Double?
    public var network: Network = .isolated
    public var seccomp: Seccomp = .default
    public var upstreams: [HostPort] = []
    public var balance: Balance = .roundRobin
    /// nil: the global `redirect-https`.
    public var redirectHTTPS: Bool?

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// `env KEY=VALUE`.
public struct EnvVar: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// `health GET /path interval 2s timeout 1s fall 3 rise 2`.
public struct HealthCheck: Sendable, Equatable {
    public var method = "GET"
    public var path = "/"
    public var interval: Double = 2
    public var timeout: Double = 1
    public var fall = 3
    public var rise = 2

    public init(method: String = "GET", path: String = "/", interval: Double = 2, timeout: Double = 1, fall: Int = 3, rise: Int = 2) {
        self.method = method
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.fall = fall
        self.rise = rise
    }
}

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

    /// What berth speaks to the app's servers.
    public enum UpstreamProtocol: String, Sendable, Equatable {
        /// HTTP/1.1 on pooled keep-alive connections.
        case http1
        /// HTTP/2 with prior knowledge (gRPC): one multiplexed connection per server and worker.
        case h2c
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
    /// While an old version drains after a redeploy, a GET the new version
    /// answers 404 is tried once on the old one (`skew-retry on`).
    public var skewRetry = false
    public var build: String?
    /// `image NAME`: run a stored image (pulled when missing) instead of building one.
    public var image: String?
    public var dockerfile: String?
    public var port: Int?
    public var replicas = 1
    public var health: HealthCheck?
    public var env: [EnvVar] = []
    public var memory: Int?
    public var cpus: Double?
    public var network: Network = .isolated
    public var seccomp: Seccomp = .default
    /// `volume NAME:/path`: named volumes, kept in the state dir.
    public var volumes: [VolumeMount] = []
    /// `mount HOST:/path [ro|rw]`: host paths (absolute, resolved against proxy.conf's directory).
    public var mounts: [HostMount] = []
    /// `command ARGS...`: replaces the image's CMD (ENTRYPOINT stays).
    public var command: [String]?
    /// `env-file FILE`: read when the config is; its values never appear in a message.
    public var envFile: String?
    public var envFileVars: [EnvVar] = []
    /// `secret NAME FILE`: mounted read-only at /run/secrets/NAME (FILE absolute).
    public var secrets: [SecretFile] = []
    public var upstreams: [HostPort] = []
    /// `proto h2c` or `upstream h2c://ADDR`: HTTP/2 to the servers.
    public var proto: UpstreamProtocol = .http1
    public var balance: Balance = .roundRobin
    /// nil: the global `redirect-https`.
    public var redirectHTTPS: Bool?

    /// Whether `path` was written (a container app with no path and no host is not routed).
    public var pathGiven = false
    /// `link NAME [PORT]`: apps this one reaches on its own 127.0.0.1.
    public var links: [AppLink] = []
    /// `deploy blue-green|recreate` (nil: the default, see `deployStrategy`).
    public var deploy: DeployStrategy?

    /// Whether requests are routed to it: every `upstream` app, and container
    /// apps with a `path` or `host`.
    public var isRouted: Bool { !runsContainers || pathGiven || host != nil }

    /// A container app with no `path`, `host` or `port`: supervised, never
    /// routed, gated only by running (a job runner, a queue consumer).
    public var isWorker: Bool { !isRouted && port == nil }

    /// A container app with a `port` but no `path` or `host` (a database):
    /// never routed, reached only through `link`s.
    public var isService: Bool { !isRouted && port != nil }

    /// The port its replicas listen on (nil for a worker).
    public var listenPort: Int? { isWorker ? nil : port ?? 8000 }

    /// `deploy`, else recreate for an unrouted app with a volume (a database:
    /// two versions must never share its data directory), else blue-green.
    public var deployStrategy: DeployStrategy {
        deploy ?? (!isRouted && !volumes.isEmpty ? .recreate : .blueGreen)
    }

    /// Whether the app runs in containers (built or from an image), not on `upstream` servers.
    public var runsContainers: Bool { build != nil || image != nil }

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// `volume NAME:/path`.
public struct VolumeMount: Sendable, Equatable {
    public var name: String
    public var target: String

    public init(name: String, target: String) {
        self.name = name
        self.target = target
    }
}

/// `secret db-password secrets/db-password`.
public struct SecretFile: Sendable, Equatable {
    public var name: String
    public var source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// `mount /host/path:/path ro`.
public struct HostMount: Sendable, Equatable {
    public var source: String
    public var target: String
    public var readOnly: Bool

    public init(source: String, target: String, readOnly: Bool) {
        self.source = source
        self.target = target
        self.readOnly = readOnly
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
    /// `health exec CMD...`: a command run inside the container (exit 0 passes) instead of an HTTP request.
    public var command: [String]?

    public init(method: String = "GET", path: String = "/", interval: Double = 2, timeout: Double = 1, fall: Int = 3, rise: Int = 2) {
        self.method = method
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.fall = fall
        self.rise = rise
    }
}

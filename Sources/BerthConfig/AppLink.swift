/// `link NAME [PORT]`: the consumer reaches app NAME at 127.0.0.1:PORT inside
/// its own network namespace (berth listens there and forwards each
/// connection to a live replica of NAME); PORT defaults to NAME's own port.
/// Where it was written is kept for errors but is not part of its value, so a
/// link that only moved lines changes nothing.
public struct AppLink: Sendable, Equatable {
    public var app: String
    /// The local port asked for (nil: the linked app's port).
    public var port: Int?
    /// The port it listens on in the consumer: `port`, else the linked app's
    /// (resolved when the whole config is read).
    public internal(set) var localPort = 0
    public var location: SourceLocation

    public init(app: String, port: Int? = nil, location: SourceLocation) {
        self.app = app
        self.port = port
        self.location = location
    }

    public static func == (a: AppLink, b: AppLink) -> Bool { a.app == b.app && a.port == b.port && a.localPort == b.localPort }

    /// `DB` for `db`: the prefix of the `_HOST`/`_PORT` variables a link sets.
    public var environmentPrefix: String {
        String(app.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

/// How a redeploy replaces an app's containers.
public enum DeployStrategy: String, Sendable, Equatable {
    /// The new version starts and passes its gate beside the old, then takes its traffic.
    case blueGreen = "blue-green"
    /// The old version stops first (never two on one data directory).
    case recreate
}

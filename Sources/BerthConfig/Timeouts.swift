/// The `timeouts { }` block, in seconds.
public struct Timeouts: Sendable, Equatable {
    /// Connecting to an upstream.
    public var connect: Double = 5
    /// Receiving a whole request head from a client.
    public var header: Double = 10
    /// Keep-alive between requests.
    public var idle: Double = 60
    /// Waiting on an upstream's response (between bytes).
    public var upstream: Double = 60
    /// Finishing in-flight requests on SIGTERM.
    public var drain: Double = 30
    /// Holding a request while its app starts.
    public var start: Double = 30
    /// How long a redeploy keeps an old version's WebSocket and other Upgrade tunnels.
    public var tunnelDrain: Double = 3600
    /// The window the closes of those left at `tunnelDrain` are spread over.
    public var tunnelDrainSpread: Double = 30

    public init() {}
}

/// The `limits { }` block.
public struct Limits: Sendable, Equatable {
    /// Request line plus headers; over it → 431 (or 414 for the line alone).
    public var headerSize = 32 * 1024
    /// A request body over it → 413.
    public var bodySize = 64 * 1024 * 1024
    /// Open client connections per process; over it new ones wait in the backlog.
    public var connections = 10000

    public init() {}
}

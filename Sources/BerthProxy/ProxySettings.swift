import BerthConfig

/// The per-process tunables a worker reads on its hot path, copied out of
/// `Config` once so that requests never look at the config tree.
struct ProxySettings: Sendable {
    var connectTimeout: Double
    var headerTimeout: Double
    var idleTimeout: Double
    var upstreamTimeout: Double
    /// How long a request waits for a starting app before a 503.
    var startTimeout: Double
    /// The port of the first TLS listener (where `redirect-https` sends clients).
    var httpsPort: Int?
    var maxHeadSize: Int
    var maxBodySize: Int
    /// Open client connections allowed per worker.
    var connectionsPerWorker: Int
    /// Idle pooled connections kept per upstream server per worker.
    var maxIdlePerServer = 512
    /// Bytes a buffer holds before the side feeding it is paused (and the
    /// size of the pool blocks buffers borrow). 64 KiB halves the CPU of a
    /// 1 MiB response against 32 KiB (peers.sh --mode large: 724 -> 383 us per
    /// request); idle connections hold none, an active one up to four.
    var bufferSize = 64 * 1024
    /// How long a closing connection reads and discards before closing.
    var lingerTimeout = 2.0
    /// TLS listeners (by key) whose ALPN offers h2.
    var h2Listeners: Set<String> = []
    /// Plain listeners (by key) that take the HTTP/2 preface (`h2c`).
    var h2cListeners: Set<String> = []

    init(config: Config, workers: Int) {
        connectTimeout = config.timeouts.connect
        headerTimeout = config.timeouts.header
        idleTimeout = config.timeouts.idle
        upstreamTimeout = config.timeouts.upstream
        startTimeout = config.timeouts.start
        maxHeadSize = config.limits.headerSize
        maxBodySize = config.limits.bodySize
        connectionsPerWorker = max(1, (config.limits.connections + workers - 1) / workers)
    }
}

/// Counters one worker keeps for one app. Only the worker's thread writes
/// them; the admin listener gets copies by message, so requests pay no lock.
struct AppStats: Sendable {
    /// Upper bounds (seconds) of the request duration histogram.
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Responses by status class: 1xx ... 5xx.
    var byClass: [UInt64] = [0, 0, 0, 0, 0]
    /// Per bucket (not cumulative); the last slot is above every bound.
    var buckets = [UInt64](repeating: 0, count: AppStats.bounds.count + 1)
    var sum = 0.0
    var count: UInt64 = 0

    mutating func record(status: Int, seconds: Double) {
        byClass[min(max(status / 100, 1), 5) - 1] += 1
        var i = 0
        while i < Self.bounds.count && seconds > Self.bounds[i] { i += 1 }
        buckets[i] += 1
        sum += seconds
        count += 1
    }

    mutating func add(_ o: AppStats) {
        for i in 0..<5 { byClass[i] += o.byClass[i] }
        for i in 0..<buckets.count { buckets[i] += o.buckets[i] }
        sum += o.sum
        count += o.count
    }
}

/// What a worker reports when the admin listener asks.
struct WorkerSnapshot: Sendable {
    var apps: [AppStats]
    var clientConnections: Int
    var upstreamConnections: Int
    /// Response body bytes that went socket to socket through a pipe.
    var splicedBytes = 0
}

import Foundation

/// One line of `berth ps`: what a running serve knows about one replica,
/// written to a status file on every change for the CLI to read.
public struct ReplicaStatus: Codable, Sendable, Equatable {
    /// `live` (routed version), `new` (starting beside it) or `old` (draining).
    public var version: String
    public var app: String
    public var replica: Int
    public var container: String
    public var image: String
    /// running, starting, restarting, crash-loop or stopped.
    public var state: String
    /// healthy (routed), checking (gate not passed yet) or down.
    public var health: String
    /// Unix time the current run began, while it runs.
    public var since: Double?
    public var restarts: Int
    public var lastExit: Int32?
    public var log: String

    /// Writes `all` to `path` atomically (a reader never sees half a file).
    public static func write(_ all: [ReplicaStatus], to path: String) {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? e.encode(all) else { return }
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else { return }
        rename(tmp, path)
    }

    public static func read(_ path: String) -> [ReplicaStatus]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode([ReplicaStatus].self, from: data)
    }
}

import BerthRuntime
import Foundation

/// One line of `berth ps`: what a running serve knows about one replica,
/// written to a status file on every change for the CLI to read.
public struct ReplicaStatus: Codable, Sendable, Equatable {
    /// Which version of its app a replica belongs to.
    public enum Version: String, Codable, Sendable {
        /// The routed version.
        case live
        /// Starting beside it (a redeploy), not routed yet.
        case new
        /// Replaced, draining before it stops.
        case old
    }

    /// What the replica's container is doing.
    public enum State: String, Codable, Sendable {
        case starting, running, restarting, stopped, stopping
        /// Exited quickly four times or more in a row; restarting with backoff.
        case crashLoop = "crash-loop"

        init(_ s: SupervisedContainer.State) {
            switch s {
            case .starting: self = .starting
            case .running: self = .running
            case .backingOff: self = .restarting
            case .stopped: self = .stopped
            }
        }
    }

    /// Whether the replica is routed.
    public enum Health: String, Codable, Sendable {
        /// Passed its gate: routed.
        case healthy
        /// Running, gate not passed yet (or failing since a restart).
        case checking
        /// Not running, or stopping.
        case none = "-"
    }

    public var version: Version
    public var app: String
    public var replica: Int
    public var container: String
    public var image: String
    public var state: State
    public var health: Health
    /// Unix time the current run began, while it runs.
    public var since: Double?
    public var restarts: Int
    public var lastExit: Int32?
    public var log: String

    /// Writes `all` to `path` atomically (a reader never sees half a file);
    /// throws, leaving the old file in place, when it cannot.
    public static func write(_ all: [ReplicaStatus], to path: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try e.encode(all)
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try data.write(to: URL(fileURLWithPath: tmp))
        } catch {
            throw StatusFileError(path: tmp, reason: "\(error.localizedDescription)")
        }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw StatusFileError(path: path, reason: why)
        }
    }

    /// The statuses in `path`; nil when there is no such file, throws when it
    /// cannot be read or decoded.
    public static func read(_ path: String) throws -> [ReplicaStatus]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StatusFileError(path: path, reason: "cannot read it")
        }
        do {
            return try JSONDecoder().decode([ReplicaStatus].self, from: data)
        } catch {
            throw StatusFileError(path: path, reason: "not a status file: \(error)")
        }
    }
}

/// A status file that could not be written or read, and why.
public struct StatusFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

import Foundation

/// One status line of a keeper: its container's supervision status, the
/// keeper's pid and when it started (the replica's original uptime).
public struct KeeperStatus: Codable, Sendable, Equatable {
    public var container: SupervisedContainer.Status
    public var keeperPID: Int32
    public var created: Date

    public init(container: SupervisedContainer.Status, keeperPID: Int32, created: Date) {
        self.container = container
        self.keeperPID = keeperPID
        self.created = created
    }

    /// `status {json}` as the keeper sends it.
    public var line: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
        return "status " + String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads a `status {json}` line; nil for anything else.
    public init?(line: String) {
        guard line.hasPrefix("status "),
              let s = try? JSONDecoder().decode(KeeperStatus.self, from: Data(line.dropFirst(7).utf8)) else { return nil }
        self = s
    }
}

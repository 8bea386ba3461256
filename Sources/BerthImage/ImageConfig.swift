import Foundation

/// The OCI image config, plus Docker's Healthcheck, OnBuild and Shell fields:
/// what `berth inspect` prints and what containers start from.
public struct ImageConfig: Codable, Sendable, Equatable {
    public struct Empty: Codable, Sendable, Equatable {
        public init() {}
    }

    public struct Healthcheck: Codable, Sendable, Equatable {
        public var Test: [String]?
        public var Interval: Int64?
        public var Timeout: Int64?
        public var StartPeriod: Int64?
        public var Retries: Int?
    }

    /// The runtime part (`config` in the JSON).
    public struct Runtime: Codable, Sendable, Equatable {
        public var User: String?
        public var ExposedPorts: [String: Empty]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Volumes: [String: Empty]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        public var Healthcheck: Healthcheck?
        public var OnBuild: [String]?
        public var Shell: [String]?

        public init() {}
    }

    public struct RootFS: Codable, Sendable, Equatable {
        public var type = "layers"
        public var diff_ids: [String] = []
    }

    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var created_by: String?
        public var empty_layer: Bool?
        /// `berth.dockerfile.v0` on the steps berth built (BuildKit writes
        /// `buildkit.dockerfile.v0`): `berth history` gives those rows ids.
        public var comment: String?

        public init(created: String? = nil, created_by: String? = nil, empty_layer: Bool? = nil, comment: String? = nil) {
            self.created = created
            self.created_by = created_by
            self.empty_layer = empty_layer
            self.comment = comment
        }
    }

    public var created: String?
    public var architecture = "amd64"
    public var os = "linux"
    public var config = Runtime()
    public var rootfs = RootFS()
    public var history: [History]?

    public init() {}

    public func json(pretty: Bool = false) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(self)) ?? Data()
    }
}

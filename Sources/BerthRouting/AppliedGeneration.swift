import BerthConfig

/// A config every worker of the data plane now serves: its generation number,
/// what changed from the one before, and the settings that changed but keep
/// their running value until a restart.
public struct AppliedGeneration: Sendable {
    public let generation: Int
    public let diff: ConfigDiff

    public init(generation: Int, diff: ConfigDiff) {
        self.generation = generation
        self.diff = diff
    }
}

import BerthRouting

/// What `Controller.reload` did, for the CLI to print and `berth reload`
/// to report: the generation now served (or why the config was refused),
/// and the apps that were redeployed, stopped or rolled back.
public struct ReloadReport: Sendable {
    public enum Outcome: Sendable {
        /// Every worker serves the new generation.
        case applied(AppliedGeneration)
        /// Nothing changed: the config does not parse, cannot be served, or a
        /// worker did not switch (the previous generation stays in force).
        case rejected(reason: String)
    }

    public var outcome: Outcome
    /// The generation in force after the reload.
    public var generation: Int
    /// Apps now running a new version (or newly added).
    public var deployed: [String] = []
    /// Apps whose containers stop because the config dropped them.
    public var removed: [String] = []
    /// Apps whose new version failed; they keep their old one (or none).
    public var failed: [String: String] = [:]

    public init(outcome: Outcome, generation: Int) {
        self.outcome = outcome
        self.generation = generation
    }
}

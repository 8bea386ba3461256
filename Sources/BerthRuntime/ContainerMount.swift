/// A directory a container sees at `target` that is not part of its image:
/// a named volume (kept in the state dir) or a host path bind-mounted in.
public struct ContainerMount: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case volume(String)
        case host(String)
    }

    public var source: Source
    public var target: String
    public var readOnly: Bool

    public init(source: Source, target: String, readOnly: Bool = false) {
        self.source = source
        self.target = target
        self.readOnly = readOnly
    }
}

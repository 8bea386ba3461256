/// A directory a container sees at `target` that is not part of its image:
/// a named volume (kept in the state dir), a host path bind-mounted in, or
/// a secret file.
public struct ContainerMount: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case volume(String)
        case host(String)
        /// A file copied into the container's own directory, mode 0400 and owned
        /// by the container's user, mounted read-only (`target` is /run/secrets/NAME).
        case secret(String)
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

/// What it takes to run (and signal) a container whose bundle is written:
/// its id, its directory and the OCI runtime. A `Container` makes one; a
/// keeper process reads one from its spec.
public struct ContainerRun: Sendable, Equatable {
    public var id: String
    /// Holds `bundle/` (and `init.pid` while it runs).
    public var dir: String
    public var runc: Runc
    /// What `stop` sends first.
    public var stopSignal: ContainerSignal

    public init(id: String, dir: String, runc: Runc, stopSignal: ContainerSignal) {
        self.id = id
        self.dir = dir
        self.runc = runc
        self.stopSignal = stopSignal
    }

    /// Sends `signal` to the container's init process.
    public func kill(_ signal: ContainerSignal = .term) {
        runc.kill(id, signal: signal)
    }
}

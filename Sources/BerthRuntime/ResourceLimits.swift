/// The cgroup limits of one container (`memory`, `cpus` and a pids cap from
/// the app block), written into the OCI spec's `linux.resources`.
public struct ResourceLimits: Sendable, Equatable {
    /// Bytes of memory (swap included: the container cannot swap past it); nil = no limit.
    public var memory: Int?
    /// CPUs as a CFS quota (0.5 = 50 ms per 100 ms); nil = no limit.
    public var cpus: Double?
    /// Processes and threads; a fork bomb stops here.
    public var pids: Int

    public static let defaultPids = 4096

    public init(memory: Int? = nil, cpus: Double? = nil, pids: Int = ResourceLimits.defaultPids) {
        self.memory = memory
        self.cpus = cpus
        self.pids = pids
    }

    /// The CFS period runc gets with a quota (Docker's too).
    static let cpuPeriod = 100_000
}

/// The OCI runtime app containers run with (proxy.conf's `runtime`).
public enum ContainerRuntime: String, Sendable, Equatable, CaseIterable {
    case runc
    /// Probed at start; berth falls back to runc where it can't run (hybrid cgroups).
    case crun
}

/// What confines a container's processes beyond its namespaces and its 14
/// capabilities, as Docker does by default: its seccomp profile and
/// `no_new_privs` (setuid binaries gain nothing).
public struct ContainerSecurity: Sendable, Equatable {
    public enum Seccomp: String, Sendable, Equatable, CaseIterable {
        /// Docker's default profile (`SeccompProfile.dockerDefault`).
        case `default`
        /// No filter (`seccomp unconfined`, `--security-opt seccomp=unconfined`).
        case unconfined
    }

    public var seccomp: Seccomp
    public var noNewPrivileges: Bool

    public init(seccomp: Seccomp, noNewPrivileges: Bool) {
        self.seccomp = seccomp
        self.noNewPrivileges = noNewPrivileges
    }

    /// App containers and `berth run`: Docker's profile and no_new_privs.
    public static let hardened = ContainerSecurity(seccomp: .default, noNewPrivileges: true)
    /// Build RUN steps: Docker's profile (as BuildKit applies it), without
    /// no_new_privs so `su`/`sudo` in a RUN behave as under `docker build`.
    public static let build = ContainerSecurity(seccomp: .default, noNewPrivileges: false)
}

/// A signal sent to a container through `runc kill`: the image's
/// STOPSIGNAL, SIGTERM to stop, SIGKILL after the grace period.
public enum ContainerSignal: Sendable, Equatable, CustomStringConvertible {
    case hup, int, quit, kill, usr1, usr2, term, winch
    /// By number (`STOPSIGNAL 3`).
    case number(Int32)
    /// Another name runc knows (`STOPSIGNAL SIGRTMIN+3`), passed as written.
    case named(String)

    /// Dockerfile STOPSIGNAL as written (`SIGQUIT`, `QUIT`, `3`); none or
    /// empty is SIGTERM.
    public init(stopSignal s: String?) {
        guard var name = s?.uppercased(), !name.isEmpty else {
            self = .term
            return
        }
        if let n = Int32(name), n > 0 {
            self = .number(n)
            return
        }
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        switch name {
        case "HUP": self = .hup
        case "INT": self = .int
        case "QUIT": self = .quit
        case "KILL": self = .kill
        case "USR1": self = .usr1
        case "USR2": self = .usr2
        case "TERM": self = .term
        case "WINCH": self = .winch
        default: self = .named(name)
        }
    }

    /// As `runc kill` takes it: `TERM`, `3`.
    public var runcName: String {
        switch self {
        case .hup: return "HUP"
        case .int: return "INT"
        case .quit: return "QUIT"
        case .kill: return "KILL"
        case .usr1: return "USR1"
        case .usr2: return "USR2"
        case .term: return "TERM"
        case .winch: return "WINCH"
        case .number(let n): return "\(n)"
        case .named(let n): return n
        }
    }

    public var description: String { runcName }
}

import ArgumentParser
import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

/// `berth shim DIR` (hidden): the keeper of one container, started by serve
/// (see `Keeper`). It outlives serve; a later serve adopts it.
struct Shim: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep one container running (started by berth serve).",
                                                    shouldDisplay: false)

    @Argument(help: "The container's directory (holding keeper.json).")
    var dir: String

    func run() throws {
        // fd 3 is where serve waits for `ready` (when it passed one).
        let ready: Int32 = fcntl(3, F_GETFD) >= 0 ? 3 : -1
        let code = Keeper.run(dir: dir, ready: ready)
        throw ExitCode(code)
    }
}

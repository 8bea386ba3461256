import ArgumentParser
import BerthConfig
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth upgrade [--binary PATH]`: the running serve hands its listening
/// sockets, its pid file and its apps (adopted, not restarted) to a new serve
/// from PATH (default: serve's own executable as on disk now), then drains
/// and exits. Prints the new pid; exits 1, the old serve still serving, when
/// the new one does not take over.
struct Upgrade: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hand the running serve over to a new binary without dropping a connection or restarting an app.")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var pid: PidFileOption

    @Option(name: .long, help: "The berth binary the new serve runs (default: the running serve's executable path).")
    var binary: String?

    @Option(name: .long, help: "Seconds to wait for the new serve to take over.")
    var timeout: Double = 300

    func run() throws {
        let files = RuntimeFiles(options: options, config: try? Config.load(path: options.configPath), pidFile: pid.pidFile)
        let old = try files.runningServe()
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let path = binary.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        do {
            try writeJSONAtomically(UpgradeRequest(id: id, binary: path), to: UpgradeRequest.path(files))
        } catch {
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        guard kill(old, SIGUSR2) == 0 else {
            printError("berth: cannot signal pid \(old): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let outcome = readJSON(UpgradeOutcome.self, from: UpgradeOutcome.path(files)), outcome.id == id {
                if outcome.ok, let new = outcome.pid {
                    printOut(String(format: "upgraded: berth serve pid %d (was %d), accepting after %.2fs", new, old, outcome.seconds))
                    return
                }
                printError("berth: upgrade failed: \(outcome.message); pid \(old) goes on serving")
                throw ExitCode(1)
            }
            if kill(old, 0) != 0 && PidFileLock.runningPID(files.pidFile) == nil {
                printError("berth: pid \(old) exited during the upgrade")
                throw ExitCode(1)
            }
            usleep(20_000)
        }
        printError("berth: no answer from pid \(old) within \(timeout) s")
        throw ExitCode(1)
    }
}

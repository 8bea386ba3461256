import ArgumentParser
import BerthConfig
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth stop`: drain and stop the running serve (SIGTERM), waiting until
/// it has exited — its containers stopped and unmounted.
struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drain and stop the running serve and its containers; waits until it has exited.")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var pid: PidFileOption

    @Option(name: .long, help: "Seconds to wait before giving up.")
    var timeout: Double = 120

    func run() throws {
        let files = RuntimeFiles(options: options, config: try? Config.load(path: options.configPath), pidFile: pid.pidFile)
        let pid = try files.runningServe()
        guard kill(pid, SIGTERM) == 0 else {
            printError("berth: cannot signal pid \(pid): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            // serve drops the pid file's lock as it exits, after its containers are gone.
            if PidFileLock.runningPID(files.pidFile) != pid {
                printOut(String(format: "stopped berth serve (pid %d) in %.1fs", pid, Date().timeIntervalSince(start)))
                return
            }
            usleep(50_000)
        }
        printError("berth: pid \(pid) is still running after \(timeout) s")
        throw ExitCode(1)
    }
}

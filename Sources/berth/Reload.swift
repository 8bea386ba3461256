import ArgumentParser
import BerthConfig
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth reload`: signal the running serve and report what it did with the
/// new config (applied generation N, or the config error).
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reload the running serve's config, redeploying changed apps, and print the outcome (exit 0 applied, 1 rejected or an app rolled back).")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var pid: PidFileOption

    @Option(name: .long, help: "Seconds to wait for the outcome.")
    var timeout: Double = 600

    func run() throws {
        // The config only locates the state dir here; serve re-reads its own file.
        let config = try? Config.load(path: options.configPath)
        let files = RuntimeFiles(options: options, config: config, pidFile: pid.pidFile)
        let pid = try files.runningServe()
        let before = ReloadStatus.read(files.statusFile)?.sequence ?? 0
        // Serve answers on this signal when it cannot write the status file.
        var answer = sigset_t()
        sigemptyset(&answer)
        sigaddset(&answer, ReloadRequest.statusWriteFailed)
        pthread_sigmask(SIG_BLOCK, &answer, nil)
        guard ReloadRequest.send(to: pid) else {
            printError("berth: cannot signal pid \(pid): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var info = siginfo_t()
            var wait = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            if sigtimedwait(&answer, &info, &wait) == ReloadRequest.statusWriteFailed, info._sifields._rt.si_pid == pid {
                let why = String(cString: strerror(info._sifields._rt.si_sigval.sival_int))
                printError("berth: serve (pid \(pid)) reloaded but could not write \(files.statusFile): \(why); its log has the outcome")
                throw ExitCode(1)
            }
            if kill(pid, 0) != 0 && errno == ESRCH {
                printError("berth: serve (pid \(pid)) exited before it answered")
                throw ExitCode(1)
            }
            if let status = ReloadStatus.read(files.statusFile), status.sequence > before {
                if status.partial {
                    printError("berth: applied generation \(status.generation), but a new app version failed and was rolled back:\n\(status.message)")
                    throw ExitCode(1)
                }
                if status.applied {
                    printOut("applied generation \(status.generation) (\(status.message))")
                    return
                }
                printError("berth: reload rejected, still serving generation \(status.generation):\n\(status.message)")
                throw ExitCode(1)
            }
        }
        printError("berth: no answer from pid \(pid) within \(timeout) s")
        throw ExitCode(1)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BerthConfig
import Foundation
import Synchronization

/// Where a running serve keeps its pid file and reload status: /run/berth,
/// or the state dir when one was chosen (flag, BERTH_STATE_DIR or proxy.conf).
struct RuntimeFiles {
    let dir: String
    let pidFile: String
    var statusFile: String { dir + "/reload.status" }
    /// The serve's replicas, for `berth ps`.
    var psFile: String { dir + "/ps.json" }

    init(options: ConfigOptions, config: Config?, pidFile: String?) {
        if let s = options.stateDir ?? getenv("BERTH_STATE_DIR").map({ String(cString: $0) }) ?? config?.stateDir, !s.isEmpty {
            dir = s
        } else {
            dir = "/run/berth"
        }
        self.pidFile = pidFile ?? dir + "/berth.pid"
    }

    /// The pid of the serve holding the pid file, or exit 1 saying there is none.
    func runningServe() throws -> Int32 {
        guard let pid = PidFileLock.runningPID(pidFile) else {
            printError("berth: no running berth serve holds \(pidFile)")
            throw ExitCode(1)
        }
        return pid
    }

    func makeDirectory() {
        var path = ""
        for part in pidFile.split(separator: "/").dropLast() {
            path += "/" + part
            mkdir(path, 0o755)
        }
        var d = ""
        for part in dir.split(separator: "/") {
            d += "/" + part
            mkdir(d, 0o755)
        }
    }
}

/// `--pid-file`, shared by the verbs that find a running serve.
struct PidFileOption: ParsableArguments {
    @Option(name: .long, help: "The pid file (default: STATE_DIR/berth.pid when a state dir is set, else /run/berth/berth.pid).")
    var pidFile: String?
}

/// The pid file, locked for as long as the serve runs: a second serve on the
/// same file finds the lock taken and refuses to start.
final class PidFileLock: Sendable {
    let path: String
    private let fd: Int32
    private let released = Atomic<Bool>(false)

    init(path: String) throws(CLIError) {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw CLIError("cannot open pid file \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let other = PidFileLock.readPID(path).map { " (pid \($0))" } ?? ""
            close(fd)
            throw CLIError("another berth serve\(other) is running with pid file \(path); stop it, or give this one another --state-dir or --pid-file")
        }
        claim()
    }

    /// The pid file lock a previous serve handed over (`berth upgrade`): the
    /// same open file, so the lock was never free. `claim` writes this pid.
    init(adopting fd: Int32, path: String) {
        self.path = path
        self.fd = fd
    }

    /// The locked descriptor, to hand over.
    var descriptor: Int32 { fd }

    /// Writes this process's pid into the (adopted) pid file.
    func claim() {
        ftruncate(fd, 0)
        var text = "\(getpid())\n"
        text.withUTF8 { _ = pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Closes this serve's descriptor and leaves the file (and the lock,
    /// held by the serve it was handed to) alone.
    func handedOver() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        close(fd)
    }

    /// Removes the pid file and drops the lock (once, from whichever thread exits).
    func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        unlink(path)
        close(fd)
    }

    static func readPID(_ path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The pid of the serve holding `path`'s lock, or nil if none does.
    static func runningPID(_ path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { return nil }  // nobody holds it
        return readPID(path)
    }
}

/// An error the CLI prints as it is and exits 1 for.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}


import BerthThreads
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The body of `berth shim DIR`: one process per container, in the role of
/// conmon or containerd-shim, so the container outlives any serve. It runs
/// the container under a `SupervisedContainer` (restarts with backoff, the
/// rotated log, the exit status), holds its volumes' locks, and answers on
/// its Unix socket, one command line per connection:
///
/// - `watch`: a `status {json}` line now and on every change, until either side closes;
/// - `status`: one status line;
/// - `stop SIGNAL GRACE`: stops the container (SIGKILL after GRACE seconds),
///   answers `stopped`, and exits;
/// - `kill SIGNAL`: signals the container, answers `ok`;
/// - `follow`: every log line from now on.
public enum Keeper {
    /// Runs the keeper of the container in `dir`; returns its exit status.
    /// `ready` (when >= 0) is written `ready\n` (or `error ...\n`) and closed
    /// once the socket listens, so whoever started it need not poll.
    public static func run(dir: String, ready: Int32) -> Int32 {
        func tell(_ text: String) {
            guard ready >= 0 else { return }
            var t = text
            t.withUTF8 { _ = write(ready, $0.baseAddress, $0.count) }
            close(ready)
        }
        signal(SIGPIPE, SIG_IGN)
        let spec: KeeperSpec
        do {
            spec = try KeeperSpec.read(dir: dir)
        } catch {
            tell("error \(error)\n")
            return 1
        }
        // A container whose runc dies is reparented here, to be reaped and cleaned.
        _ = Leftovers.becomeSubreaper()
        var holds: [Int32] = []
        for lock in spec.volumeLocks {
            let fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0, flock(fd, LOCK_SH) == 0 else {
                tell("error cannot lock \(lock): \(String(cString: strerror(errno)))\n")
                return 1
            }
            holds.append(fd)
        }
        let listener: UnixSocket
        do {
            listener = try UnixSocket.listen(spec.socket)
        } catch {
            tell("error \(error)\n")
            return 1
        }
        let pidFile = dir + "/keeper.pid"
        do {
            try "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        } catch {
            tell("error cannot write \(pidFile): \(error)\n")
            return 1
        }
        let held = holds
        let hub = KeeperHub(created: Date())
        let supervised = SupervisedContainer(run: spec.run, logPath: spec.logPath, maxLogBytes: spec.maxLogBytes,
                                             onChange: { s in hub.changed(s.status) }, onLog: { hub.logged($0) })
        hub.current = { supervised.status }
        do {
            try supervised.start()
        } catch {
            tell("error \(error)\n")
            return 1
        }
        tell("ready\n")
        while let conn = listener.accept() {
            do {
                try OSThread.detach {
                    serve(conn, supervised: supervised, hub: hub) {
                        unlink(spec.socket)
                        unlink(pidFile)
                        for fd in held { close(fd) }
                        exit(0)
                    }
                }
            } catch {
                conn.close()
            }
        }
        return 1
    }

    private static func serve(_ conn: UnixSocket, supervised: SupervisedContainer, hub: KeeperHub, exit: () -> Never) {
        guard let line = conn.readLine() else { return }
        let words = line.split(separator: " ").map(String.init)
        switch words.first {
        case "watch":
            hub.addWatcher(conn)
        case "status":
            conn.send(hub.statusLine(supervised.status))
        case "stop":
            let signal = words.count > 1 && words[1] != "-" ? ContainerSignal(stopSignal: words[1]) : nil
            let grace = words.count > 2 ? Double(words[2]) ?? 10 : 10
            supervised.stop(signal: signal, grace: grace)
            conn.send("stopped\n")
            exit()
        case "kill":
            supervised.run.kill(words.count > 1 ? ContainerSignal(stopSignal: words[1]) : .kill)
            conn.send("ok\n")
        case "follow":
            hub.addFollower(conn)
        default:
            conn.send("error unknown command\n")
        }
    }
}

/// A keeper's connections that hear of changes: watchers get status lines,
/// followers log lines. A connection whose peer is gone is dropped.
final class KeeperHub: @unchecked Sendable {
    let created: Date
    var current: @Sendable () -> SupervisedContainer.Status = { .init() }
    private let lock = Mutex<(watchers: [UnixSocket], followers: [UnixSocket])>(([], []))

    init(created: Date) { self.created = created }

    func statusLine(_ s: SupervisedContainer.Status) -> String {
        KeeperStatus(container: s, keeperPID: getpid(), created: created).line
    }

    func addWatcher(_ c: UnixSocket) {
        lock.withLock { l in
            // Under the lock, so no change is sent before this first line.
            if c.send(statusLine(current())) { l.watchers.append(c) }
        }
    }

    func addFollower(_ c: UnixSocket) { lock.withLock { $0.followers.append(c) } }

    func changed(_ s: SupervisedContainer.Status) {
        let line = statusLine(s)
        lock.withLock { l in l.watchers = l.watchers.filter { $0.send(line) } }
    }

    func logged(_ text: String) {
        lock.withLock { l in
            guard !l.followers.isEmpty else { return }
            l.followers = l.followers.filter { $0.send(text) }
        }
    }
}

import BerthHost
import BerthProxy
import BerthRuntime
import CBerthSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The running serve's side of `berth upgrade`: starts the new binary with
/// this serve's arguments and one end of a `HandoverChannel`, hands it the
/// listening sockets and the pid file's lock, and waits until it says it is
/// accepting (its apps adopted and routed). Any failure on the way leaves
/// this serve serving as before.
enum HandOff {
    enum Outcome {
        /// The new serve accepts and holds the pid file: this one drains and exits.
        case handedOver(pid: Int32)
        case failed(String)
    }

    /// `arguments` are this serve's own (without the executable).
    static func run(binary: String, arguments: [String], server: ProxyServer, lock: PidFileLock, waitForApps: Double) -> Outcome {
        guard access(binary, X_OK) == 0 else { return .failed("\(binary) is not an executable file") }
        let mine: HandoverChannel, theirs: Int32
        do {
            (mine, theirs) = try HandoverChannel.pair()
        } catch {
            return .failed("\(error)")
        }
        defer { mine.close() }
        var args = arguments
        if let i = args.firstIndex(of: "--handover-fd"), i + 1 < args.count { args.removeSubrange(i...(i + 1)) }
        let started = DetachedProcess.spawn(binary, [binary] + args + ["--handover-fd", "3"], stdin: 0, stdout: 1, stderr: 2, pass: theirs)
        close(theirs)
        guard started else { return .failed("cannot start \(binary): \(String(cString: strerror(errno)))") }
        guard let hello = mine.receive(timeout: 30) else {
            return .failed("the new serve (\(binary)) exited, or said nothing within 30 s, before taking over")
        }
        let words = hello.text.split(separator: " ")
        guard words.count == 2, words[0] == "hello", let pid = Int32(words[1]) else {
            return .failed("the new serve said \(hello.text.prefix(200)) instead of hello")
        }
        let sockets = server.socketsToHandOver()
        guard let layout = try? JSONEncoder().encode(sockets.layout),
              mine.send("sockets \(getpid()) " + String(decoding: layout, as: UTF8.self), fds: sockets.all + [lock.descriptor]) else {
            return .failed("cannot hand the listening sockets to the new serve (pid \(pid)): \(String(cString: strerror(errno)))")
        }
        guard let answer = mine.receive(timeout: waitForApps) else {
            return .failed("the new serve (pid \(pid)) exited, or was not accepting within \(Int(waitForApps)) s")
        }
        if answer.text.hasPrefix("failed ") { return .failed("the new serve (pid \(pid)) could not take over: \(answer.text.dropFirst(7))") }
        guard answer.text == "accepting" else { return .failed("the new serve (pid \(pid)) said \(answer.text.prefix(200))") }
        mine.send("bye")
        guard let done = mine.receive(timeout: 10), done.text == "done" else {
            return .failed("the new serve (pid \(pid)) exited while taking the pid file")
        }
        return .handedOver(pid: pid)
    }

    /// The executable to start by default: this serve's own path, as on disk
    /// now (a binary replaced since it started is the new one).
    static var ownBinary: String {
        var path = RuncEngine.ownExecutable
        if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
        return path
    }
}

/// Waiting for a process that is not this one's child to exit.
enum ProcessExit {
    /// Returns once `pid` has exited (at once when it is gone already).
    static func wait(_ pid: Int32) {
        let fd = cberth_pidfd_open(pid)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&p, 1, -1) < 0 && errno == EINTR {}
    }
}

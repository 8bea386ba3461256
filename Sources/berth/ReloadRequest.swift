#if canImport(Glibc)
import Glibc
#endif
import CBerthSystem

/// A SIGHUP sent by `berth reload` (with `sigqueue` and `magic` as its
/// value), so serve can answer it directly when the status file cannot be
/// written: `berth reload` then reports that at once instead of waiting out
/// its timeout. A plain `kill -HUP` gets no answer. The requester is held by
/// a pidfd opened when the SIGHUP arrives, so a reused pid is never signalled.
final class ReloadRequest: Sendable {
    /// The value `berth reload` queues with its SIGHUP.
    static let magic: Int32 = 0x6265_7274  // "bert"
    /// The signal serve answers with; its value is the write's errno.
    static let statusWriteFailed = SIGUSR1

    let pid: pid_t
    private let pidfd: Int32

    /// The requester of the SIGHUP `info` describes, if `berth reload` sent
    /// it and is still there.
    init?(_ info: siginfo_t) {
        guard info.si_code == SI_QUEUE, info._sifields._rt.si_sigval.sival_int == Self.magic else { return nil }
        pid = info._sifields._rt.si_pid
        pidfd = cberth_pidfd_open(pid)
        guard pidfd >= 0 else { return nil }
    }

    deinit { close(pidfd) }

    /// Tells the requester; false when it is gone.
    func reportStatusWriteFailed(_ code: Int32) -> Bool {
        cberth_pidfd_send_queued(pidfd, Self.statusWriteFailed, code) == 0
    }

    /// Sends serve (`pid`) a reload request from this process.
    static func send(to pid: pid_t) -> Bool {
        var v = sigval()
        v.sival_int = magic
        return sigqueue(pid, SIGHUP, v) == 0
    }
}

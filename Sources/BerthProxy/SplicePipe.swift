#if canImport(Glibc)
import Glibc
#endif
import CBerthSystem

/// A kernel pipe a plain response body passes through on its way from the
/// upstream's socket to the client's (`splice(2)`, as HAProxy's
/// `splice-auto`): the bytes never come up to user space. One per exchange
/// while it splices, lent by its worker's `SplicePipes`.
final class SplicePipe {
    let readFD: Int32
    let writeFD: Int32
    /// Bytes in the pipe now (in from the upstream, not yet out to the client).
    private(set) var held = 0
    /// What the pipe can hold (the kernel may give less than asked).
    let capacity: Int
    var room: Int { capacity - held }

    /// The outcome of one splice.
    enum Moved: Equatable {
        case bytes(Int)
        case end
        case wouldBlock
        case failed(Int32)
    }

    /// A new pipe of about `size` bytes; nil when none can be made (no fds).
    init?(size: Int) {
        var fds: [Int32] = [-1, -1]
        let capacity = cberth_pipe_nonblocking(&fds, Int32(size))
        guard capacity > 0 else { return nil }
        self.capacity = Int(capacity)
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        Glibc.close(readFD)
        Glibc.close(writeFD)
    }

    /// Moves up to `count` bytes from socket `fd` into the pipe.
    func fill(from fd: Int32, count: Int) -> Moved {
        let moved = Self.splice(fd, writeFD, count)
        if case .bytes(let n) = moved { held += n }
        return moved
    }

    /// Moves what the pipe holds out to socket `fd`.
    func drain(to fd: Int32) -> Moved {
        let moved = Self.splice(readFD, fd, held)
        if case .bytes(let n) = moved { held -= n }
        return moved
    }

    private static func splice(_ from: Int32, _ to: Int32, _ count: Int) -> Moved {
        while true {
            let n = cberth_splice(from, to, count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .end }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno)
        }
    }
}

/// A worker's splice pipes: one is lent to an exchange while its body
/// splices and comes back empty (a pipe still holding bytes is closed
/// instead). At most `keep` spare ones are kept, and at most `maxLent` are
/// out at once: a pipe's bytes are kernel memory no RSS shows, so slow
/// readers cannot pin more than `maxLent` × `size` (8 MiB) per worker —
/// past that, bodies take the buffered path (HAProxy's `maxpipes`). A pipe
/// is the kernel's default 64 KiB (HAProxy's default `tune.pipesize`):
/// 128 KiB ones cost the machine as much per response (peers.sh --mode
/// large: wrk's and the backend's CPU per request, throughput and p99 were
/// no better over three batches of eight interleaved rounds) and pinned
/// twice the kernel memory.
final class SplicePipes {
    let size: Int
    let keep: Int
    let maxLent: Int
    private var free: [SplicePipe] = []
    private(set) var lent = 0
    /// Bytes spliced by this worker's exchanges (for metrics and tests).
    var splicedBytes = 0

    init(size: Int = 64 << 10, keep: Int = 16, maxLent: Int = 128) {
        self.size = size
        self.keep = keep
        self.maxLent = maxLent
    }

    func take() -> SplicePipe? {
        guard lent < maxLent, let pipe = free.popLast() ?? SplicePipe(size: size) else { return nil }
        lent += 1
        return pipe
    }

    func give(_ pipe: SplicePipe) {
        lent -= 1
        if pipe.held == 0 && free.count < keep { free.append(pipe) }
    }
}

import CBerthEV

/// One libev loop, owned by one worker thread. Everything registered on it
/// runs on that thread only.
final class EventLoop {
    let raw: OpaquePointer

    init() {
        guard let l = cberth_loop_new() else { fatalError("libev: cannot create an epoll loop") }
        raw = l
    }

    deinit { cberth_loop_destroy(raw) }

    /// Runs until `stop()` is called from a callback on this loop.
    func run() { cberth_loop_run(raw) }

    func stop() { cberth_loop_break(raw) }

    /// The loop's cached time, in seconds (cheap: no syscall).
    @inline(__always) var now: Double { cberth_loop_now(raw) }
}

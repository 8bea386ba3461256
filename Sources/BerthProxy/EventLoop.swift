import CBerthEV

/// One libev loop, owned by one worker thread. Everything registered on it
/// runs on that thread only.
final class EventLoop {
    let raw: OpaquePointer

    init() {
        guard let l = cberth_loop_new() else { fatalError("libev: cannot create an epoll loop") }
        raw = l
        guard cberth_ready_queue_install(l, IOWatcher.deliver) == 0 else {
            fatalError("libev: cannot allocate the loop's ready queue")
        }
    }

    deinit {
        cberth_ready_queue_remove(raw)
        cberth_loop_destroy(raw)
    }

    /// Runs until `stop()` is called from a callback on this loop.
    func run() { cberth_loop_run(raw) }

    /// Runs one turn without waiting: handles what is pending and what is
    /// ready now (tests drive a loop with it).
    func runOnce() { cberth_loop_run_nowait(raw) }

    func stop() { cberth_loop_break(raw) }

    /// The loop's cached time, in seconds (cheap: no syscall).
    @inline(__always) var now: Double { cberth_loop_now(raw) }
}

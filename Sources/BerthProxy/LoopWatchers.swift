import CBerthEV

/// A repeating `ev_timer` calling a closure on its loop's thread.
final class RepeatingTimer {
    private let loop: EventLoop
    private let watcher: UnsafeMutablePointer<ev_timer>
    private let action: () -> Void

    init(loop: EventLoop, interval: Double, action: @escaping () -> Void) {
        self.loop = loop
        self.action = action
        watcher = .allocate(capacity: 1)
        cberth_timer_init(watcher, { _, w, _ in
            Unmanaged<RepeatingTimer>.fromOpaque(w!.pointee.data).takeUnretainedValue().action()
        }, interval, interval)
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        cberth_timer_start(loop.raw, watcher)
    }

    deinit {
        cberth_timer_stop(loop.raw, watcher)
        watcher.deallocate()
    }
}

/// An `ev_async`: another thread calls `send()`, the closure runs on the loop's thread.
final class AsyncWakeup: @unchecked Sendable {
    private let loop: EventLoop
    private let watcher: UnsafeMutablePointer<ev_async>
    private let action: () -> Void

    init(loop: EventLoop, action: @escaping () -> Void) {
        self.loop = loop
        self.action = action
        watcher = .allocate(capacity: 1)
        cberth_async_init(watcher) { _, w, _ in
            Unmanaged<AsyncWakeup>.fromOpaque(w!.pointee.data).takeUnretainedValue().action()
        }
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        cberth_async_start(loop.raw, watcher)
    }

    /// Thread-safe (libev's ev_async_send).
    func send() { cberth_async_send(loop.raw, watcher) }

    deinit {
        cberth_async_stop(loop.raw, watcher)
        watcher.deallocate()
    }
}

/// An `ev_prepare`: runs just before the loop blocks (used to flush logs in batches).
final class BeforeBlocking {
    private let loop: EventLoop
    private let watcher: UnsafeMutablePointer<ev_prepare>
    private let action: () -> Void

    init(loop: EventLoop, action: @escaping () -> Void) {
        self.loop = loop
        self.action = action
        watcher = .allocate(capacity: 1)
        cberth_prepare_init(watcher) { _, w, _ in
            Unmanaged<BeforeBlocking>.fromOpaque(w!.pointee.data).takeUnretainedValue().action()
        }
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        cberth_prepare_start(loop.raw, watcher)
    }

    deinit {
        cberth_prepare_stop(loop.raw, watcher)
        watcher.deallocate()
    }
}

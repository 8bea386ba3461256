import CBerthEV

/// Receives readiness events for one file descriptor.
protocol IOEventHandler: AnyObject {
    func ioReady(readable: Bool, writable: Bool)
}

/// An `ev_io` for one descriptor whose interest set can change cheaply. The
/// watcher memory is owned here; its events go through the loop's ready
/// queue (`cberth_ready_queue.h`: a turn's events reach handlers in the
/// order epoll reported them, not libev's last-ready first), and the
/// loop's one delivery function finds this object through the watcher's
/// `data` field (unretained: the handler owns the watcher and stops it
/// before going away).
final class IOWatcher {
    private let loop: EventLoop
    private let watcher: UnsafeMutablePointer<cberth_io>
    unowned(unsafe) let handler: IOEventHandler
    private(set) var wantsRead = false
    private(set) var wantsWrite = false

    init(loop: EventLoop, fd: Int32, handler: IOEventHandler) {
        self.loop = loop
        self.handler = handler
        watcher = .allocate(capacity: 1)
        cberth_queued_io_init(watcher, fd)
        watcher.pointee.io.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// The loop's delivery function: one recorded event of this turn.
    static let deliver: cberth_deliver_cb = { w, revents in
        let me = Unmanaged<IOWatcher>.fromOpaque(w!.pointee.io.data).takeUnretainedValue()
        me.handler.ioReady(readable: revents & Int32(CBERTH_EV_READ) != 0,
                           writable: revents & Int32(CBERTH_EV_WRITE) != 0)
    }

    deinit {
        cberth_queued_io_stop(loop.raw, watcher)
        watcher.deallocate()
    }

    /// Sets which events to wait for; a no-op when nothing changes.
    @inline(__always) func set(read: Bool, write: Bool) {
        if read == wantsRead && write == wantsWrite { return }
        wantsRead = read
        wantsWrite = write
        cberth_queued_io_stop(loop.raw, watcher)
        let events = (read ? Int32(CBERTH_EV_READ) : 0) | (write ? Int32(CBERTH_EV_WRITE) : 0)
        if events != 0 { cberth_queued_io_start(loop.raw, watcher, events) }
    }

    @inline(__always) func set(read: Bool) { set(read: read, write: wantsWrite) }
    @inline(__always) func set(write: Bool) { set(read: wantsRead, write: write) }

    func stop() { set(read: false, write: false) }

    /// Delivers a read event on the next loop iteration, as if the descriptor were readable.
    func feedRead() { cberth_queued_io_feed(loop.raw, watcher, Int32(CBERTH_EV_READ)) }
}

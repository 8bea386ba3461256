/// One listening socket of one worker (SO_REUSEPORT: every worker has its own
/// on each address, and the kernel spreads connections among them).
final class Listener: IOEventHandler {
    let fd: Int32
    /// The listen address it was bound for (its TLS certificates are the worker's `tls[key]`).
    let key: String
    unowned(unsafe) let worker: Worker
    private(set) var watcher: IOWatcher!

    init(fd: Int32, key: String, worker: Worker) {
        self.fd = fd
        self.key = key
        self.worker = worker
        watcher = IOWatcher(loop: worker.loop, fd: fd, handler: self)
    }

    func ioReady(readable: Bool, writable: Bool) {
        // Bounded batch so one busy listener can't starve established connections.
        for _ in 0..<64 {
            guard worker.canAccept, let (cfd, peer) = Socket.accept(fd, noDelayInherited: true) else { return }
            if let contexts = worker.tls[key] {
                guard let session = contexts.session(fd: cfd, h2: offersH2) else {
                    Socket.close(cfd)
                    continue
                }
                worker.adopt(fd: cfd, peer: peer, tls: session)
            } else {
                worker.adopt(fd: cfd, peer: peer, h2c: acceptsH2c)
            }
        }
    }

    /// No set lookup per accept when no listener has HTTP/2 (the usual case).
    private var offersH2: Bool { !worker.settings.h2Listeners.isEmpty && worker.settings.h2Listeners.contains(key) }
    private var acceptsH2c: Bool { !worker.settings.h2cListeners.isEmpty && worker.settings.h2cListeners.contains(key) }

    private var closed = false

    func close() {
        guard !closed else { return }
        closed = true
        watcher.stop()
        Socket.close(fd)
    }
}

/// A `link`'s listening socket, made inside a consumer replica's network
/// namespace and served by one worker: each connection it accepts goes to a
/// live replica of the linked app, chosen round-robin from the worker's
/// table at that moment (so after a redeploy new connections reach the new
/// replica, and open ones stay until the old one stops).
final class LinkListener: IOEventHandler {
    let id: Int
    let fd: Int32
    /// The linked app.
    let app: String
    unowned(unsafe) let worker: Worker
    private var watcher: IOWatcher!
    private var next = 0

    init(id: Int, fd: Int32, app: String, worker: Worker) {
        self.id = id
        self.fd = fd
        self.app = app
        self.worker = worker
        watcher = IOWatcher(loop: worker.loop, fd: fd, handler: self)
        watcher.set(read: true)
    }

    func ioReady(readable: Bool, writable: Bool) {
        for _ in 0..<64 {
            guard let (cfd, _) = Socket.accept(fd) else { return }
            let servers = worker.table.linkTargets[app] ?? []
            guard !servers.isEmpty else {
                // No replica is live (the app is starting or being recreated): refused, as a closed port would be.
                worker.linkRefused(app)
                Socket.close(cfd)
                continue
            }
            let server = servers[next % servers.count]
            next &+= 1
            guard let (ufd, inProgress) = Socket.connect(server.address, in: server.netns) else {
                worker.linkRefused(app)
                Socket.close(cfd)
                continue
            }
            worker.startPipe(client: cfd, upstream: ufd, connecting: inProgress)
        }
    }

    private var closed = false

    func close() {
        guard !closed else { return }
        closed = true
        watcher.stop()
        Socket.close(fd)
    }
}

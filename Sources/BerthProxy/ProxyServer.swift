#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import Logging

/// The data plane of `berth serve`: binds every `listen` once per worker
/// (SO_REUSEPORT), runs one libev loop per worker thread, and stops them.
public final class ProxyServer: @unchecked Sendable {
    public let config: Config
    /// The port each `listen` line got, in order (resolves `:0` for tests).
    public private(set) var ports: [Int] = []
    public let workerCount: Int
    private var workers: [Worker] = []
    private var threads: [pthread_t] = []
    private let logger: Logger
    private var accessLogFD: Int32?

    public init(config: Config, logger: Logger = Logger(label: "berth.proxy")) throws {
        self.config = config
        self.logger = logger
        switch config.workers {
        case .auto: workerCount = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        case .count(let n): workerCount = n
        }
        for l in config.listens where l.tls != nil {
            throw ProxyError("\(l.location): TLS listeners are not supported yet; remove 'tls' from this listen line")
        }
        let table = try RouteTable(config: config)
        switch config.accessLog {
        case .off: accessLogFD = nil
        case .stdout: accessLogFD = 1
        case .file(let path):
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 { throw ProxyError("access-log \(path): \(String(cString: strerror(errno)))") }
            accessLogFD = fd
        }
        var perWorker = Array(repeating: [Int32](), count: workerCount)
        do throws(SocketError) {
            for l in config.listens {
                var address = try SocketAddress(l.address, passive: true)
                // Bind once without SO_REUSEPORT: fails if anyone (even another
                // berth) holds the port, and picks the port for ":0".
                let probe = try Socket.listen(address, reusePort: false, backlog: 1)
                let port = Socket.localPort(probe)
                Socket.close(probe)
                if l.address.port == 0 {
                    address = try SocketAddress(HostPort(host: l.address.host, port: port), passive: true)
                }
                ports.append(port)
                for w in 0..<workerCount {
                    perWorker[w].append(try Socket.listen(address, reusePort: true, backlog: 4096))
                }
            }
        } catch {
            for fds in perWorker { fds.forEach(Socket.close) }
            throw ProxyError(error.description)
        }
        let settings = ProxySettings(config: config, workers: workerCount)
        for w in 0..<workerCount {
            workers.append(Worker(id: w, table: table, settings: settings, listenFDs: perWorker[w],
                                  accessLogFD: accessLogFD, logger: logger))
        }
    }

    /// Starts one thread per worker.
    public func start() {
        for w in workers {
            let box = Unmanaged.passRetained(w).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let worker = Unmanaged<Worker>.fromOpaque(arg!).takeRetainedValue()
                worker.run()
                return nil
            }, box)
            if rc != 0 {
                Unmanaged<Worker>.fromOpaque(box).release()
                fatalError("pthread_create: \(rc)")
            }
            threads.append(tid)
        }
    }

    /// Stops every worker (closing listeners and connections) and joins them.
    public func stop() {
        for w in workers { w.stop() }
        wait()
    }

    /// Blocks until every worker thread has returned.
    public func wait() {
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
        if let fd = accessLogFD, fd > 2 { Glibc.close(fd) }
        accessLogFD = nil
    }
}

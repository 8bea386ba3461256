import BerthConfig
import Testing
import BerthHTTP
import BerthRouting
import Logging
@testable import BerthProxy

/// One in-memory connection: berth's end is a `Transport` (`ClosingPipe`), the test plays
/// the other end (`send`, `take`, `close`). No socket, no loop: a
/// `MemoryNetwork` delivers readiness as epoll would (level-triggered).
final class MemoryPipe: ResponseReading {
    let name: String
    /// Sent by the test, not yet read by berth.
    var toBerth: [UInt8] = []
    /// Written by berth, not yet taken by the test's reader.
    var buffer: [UInt8] = []
    /// At most this many bytes per read berth makes (to split what it gets).
    var readChunk = Int.max
    /// How many more bytes berth may write before the peer's window is full.
    var writeRoom = Int.max
    private(set) var peerClosed = false
    private(set) var peerReset = false
    private(set) var berthShutWrite = false
    private(set) var closed = false
    private(set) var wantsRead = false
    private(set) var wantsWrite = false
    var feedPending = false
    weak var handler: IOEventHandler?

    init(name: String) { self.name = name }

    // MARK: the test's end

    func send(_ text: String) { toBerth += Array(text.utf8) }
    func send<S: Sequence>(_ bytes: S) where S.Element == UInt8 { toBerth += bytes }
    /// The peer half-closes (FIN): berth reads EOF once it read the rest.
    func close() { peerClosed = true }
    func reset() { peerReset = true }
    /// What berth wrote and the reader has not parsed, as text (taken).
    func takeText() -> String {
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }
    /// What berth wrote and the reader has not parsed, as bytes (taken).
    func takeBytes() -> [UInt8] {
        defer { buffer.removeAll() }
        return buffer
    }
    func fill() -> Bool { false }  // everything berth wrote is in `buffer` already

    // MARK: berth's end (Transport)

    func set(read: Bool, write: Bool) {
        guard !closed else { return }
        wantsRead = read
        wantsWrite = write
    }

    func feedRead() { feedPending = true }

    func read(into b: ByteBuffer) -> Socket.ReadResult {
        if b.isEmpty { b.clear() } else if b.writableBytes < 2048 { b.compact() }
        if b.writableBytes == 0 { return .bytes(0) }
        if toBerth.isEmpty { return peerReset ? .failed(104) : peerClosed ? .eof : .wouldBlock }
        let n = min(readChunk, b.writableBytes, toBerth.count)
        toBerth.withUnsafeBytes { b.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        toBerth.removeFirst(n)
        return .bytes(n)
    }

    func write(from b: ByteBuffer) -> Socket.WriteResult {
        if peerReset { return .failed(32) }
        let n = min(writeRoom, b.readableBytes)
        if n == 0 { return .wouldBlock }
        b.withReadableBytes { buffer += $0[0..<n] }
        if writeRoom != Int.max { writeRoom -= n }
        b.consume(n)
        return .wrote(n)
    }

    func pendingError() -> Int32 { 0 }
    func shutdownWrite() { berthShutWrite = true }

    /// Berth closed its end. (Named so because the test's `close()` is the peer's.)
    func closeByBerth() {
        wantsRead = false
        wantsWrite = false
        closed = true
    }

    /// What epoll would report now.
    var readiness: (readable: Bool, writable: Bool) {
        guard !closed else { return (false, false) }
        let readable = wantsRead && (feedPending || !toBerth.isEmpty || peerClosed || peerReset)
        let writable = wantsWrite && (writeRoom > 0 || peerReset)
        return (readable, writable)
    }
}

/// The in-memory network a worker's connections live on: the test's clients,
/// and the upstream connections berth opens (one pipe each, by server).
final class MemoryNetwork {
    private(set) var pipes: [MemoryPipe] = []
    /// Upstream connections berth opened, in order, with the server they went to.
    private(set) var dialed: [(server: String, pipe: MemoryPipe)] = []
    /// Servers (`127.0.0.1:PORT`) whose connects are refused.
    var refusing: Set<String> = []

    func dial(_ server: UpstreamServer) -> ((IOEventHandler) -> Transport)? {
        if refusing.contains(server.name) { return nil }
        let pipe = MemoryPipe(name: "upstream \(server.name) #\(dialed.count + 1)")
        dialed.append((server.name, pipe))
        return { [self] handler in attach(pipe, handler) }
    }

    func attach(_ pipe: MemoryPipe, _ handler: IOEventHandler) -> Transport {
        pipe.handler = handler
        pipes.append(pipe)
        return ClosingPipe(pipe)
    }

    /// Delivers readiness until nothing is ready; false if it never settles
    /// (berth asking for an event it then ignores: a busy loop under epoll).
    @discardableResult
    func run(limit: Int = 100_000) -> Bool {
        for _ in 0..<limit {
            var delivered = false
            for p in pipes {
                let (r, w) = p.readiness
                guard r || w, let h = p.handler else { continue }
                p.feedPending = false
                h.ioReady(readable: r, writable: w)
                delivered = true
            }
            if !delivered { return true }
        }
        return false
    }
}

/// Berth's handle on a pipe: its `close` closes berth's end (the pipe's own
/// `close` is the test's).
final class ClosingPipe: Transport {
    let pipe: MemoryPipe
    init(_ pipe: MemoryPipe) { self.pipe = pipe }
    var wantsRead: Bool { pipe.wantsRead }
    var wantsWrite: Bool { pipe.wantsWrite }
    func set(read: Bool, write: Bool) { pipe.set(read: read, write: write) }
    func feedRead() { pipe.feedRead() }
    func read(into b: ByteBuffer) -> Socket.ReadResult { pipe.read(into: b) }
    func write(from b: ByteBuffer) -> Socket.WriteResult { pipe.write(from: b) }
    func pendingError() -> Int32 { pipe.pendingError() }
    func shutdownWrite() { pipe.shutdownWrite() }
    func close() { pipe.closeByBerth() }
}

/// A worker with no listener and no loop running, on a `MemoryNetwork`:
/// the connection logic of the proxy, driven byte by byte by the test.
final class MemoryProxy {
    let net = MemoryNetwork()
    let worker: Worker
    let registry = UpstreamRegistry(logger: Logger(label: "test"))
    let config: Config

    init(_ apps: String, extra: String = "", routing: [String: AppRouting] = [:]) throws {
        config = try Config.parse(proxyConfig(apps, extra: extra), file: "memory.conf")
        let table = try RouteTable(RoutingInput(config: config, apps: routing), registry: registry, generation: 1)
        worker = Worker(id: 0, table: table, settings: ProxySettings(config: config, workers: 1), listenFDs: [],
                        tls: [:], accessLogFD: nil, logger: Logger(label: "test"))
        let net = self.net
        worker.dialer = { net.dial($0) }
    }

    /// A new client connection; its pipe is the test's end.
    func connect() -> MemoryPipe {
        let pipe = MemoryPipe(name: "client #\(net.pipes.count + 1)")
        worker.adopt(peer: Array("10.0.0.1".utf8)) { [net] in net.attach(pipe, $0) }
        return pipe
    }

    /// Lets every ready connection run; fails the test if it never settles.
    func run(sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(net.run(), "the proxy kept asking for events it did not use", sourceLocation: sourceLocation)
    }

    /// The upstream connection berth opened n-th (from 1).
    func upstream(_ n: Int = 1) throws -> MemoryPipe {
        guard net.dialed.count >= n else { throw TestError("berth opened \(net.dialed.count) upstream connection(s), not \(n)") }
        return net.dialed[n - 1].pipe
    }

    /// New routing for container apps, as a reload would hand it over.
    func route(_ routing: [String: AppRouting]) throws {
        let table = try RouteTable(RoutingInput(config: config, apps: routing), registry: registry, generation: 1)
        worker.apply(TableUpdate(table: table, settings: ProxySettings(config: config, workers: 1),
                                 addListeners: [], removeListeners: [], tls: [:]))
    }

    /// Nothing leaked: no upstream counted busy, none owned by a closed
    /// client, none left open by one.
    func checkInvariants(sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for s in worker.table.servers {
            #expect(worker.pool(for: s)?.active ?? 0 == 0, "\(s.name) still counted busy", sourceLocation: sourceLocation)
        }
        for (_, pipe) in net.dialed {
            guard let up = pipe.handler as? UpstreamConnection, let owner = up.owner else { continue }
            #expect(owner.phase != .closed, "\(pipe.name) owned by a closed client", sourceLocation: sourceLocation)
            #expect(!up.closed, "\(pipe.name) closed but still owned", sourceLocation: sourceLocation)
        }
    }
}

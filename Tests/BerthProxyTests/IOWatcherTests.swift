import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import BerthProxy

/// A loop turn's I/O events reach their handlers in the order epoll
/// reported them (first ready, first handled), not libev's last-ready
/// first; a watcher stopped or freed by an earlier handler of the turn
/// gets nothing.
@Suite struct IOWatcherTests {
    /// Records which descriptors' handlers ran, and can act on other watchers when called.
    final class Recorder: IOEventHandler {
        let name: Int
        var log: (Int) -> Void
        var onReady: () -> Void = {}
        init(_ name: Int, log: @escaping (Int) -> Void) { self.name = name; self.log = log }
        func ioReady(readable: Bool, writable: Bool) {
            if readable { log(name) }
            onReady()
        }
    }

    /// `count` socket pairs whose reading ends are already readable.
    private func readablePairs(_ count: Int) -> [(read: Int32, write: Int32)] {
        (0..<count).map { _ in
            var fds: [Int32] = [0, 0]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            #expect(write(fds[1], "x", 1) == 1)
            return (fds[0], fds[1])
        }
    }

    private func close(_ pairs: [(read: Int32, write: Int32)]) {
        for p in pairs { Glibc.close(p.read); Glibc.close(p.write) }
    }

    @Test func aTurnsEventsRunInTheOrderEpollReportedThem() {
        let loop = EventLoop()
        let pairs = readablePairs(8)
        defer { close(pairs) }
        var order: [Int] = []
        let handlers = (0..<8).map { i in Recorder(i) { order.append($0) } }
        // Already readable when libev adds them: epoll reports them in the order they were added.
        let watchers = (0..<8).map { i in IOWatcher(loop: loop, fd: pairs[i].read, handler: handlers[i]) }
        for w in watchers { w.set(read: true) }
        loop.runOnce()
        #expect(order == Array(0..<8))
    }

    @Test func aWatcherStoppedEarlierInTheTurnGetsNothing() {
        let loop = EventLoop()
        let pairs = readablePairs(3)
        defer { close(pairs) }
        var order: [Int] = []
        let handlers = (0..<3).map { i in Recorder(i) { order.append($0) } }
        var watchers = (0..<3).map { i in IOWatcher(loop: loop, fd: pairs[i].read, handler: handlers[i]) }
        handlers[0].onReady = { watchers[2].stop() }
        for w in watchers { w.set(read: true) }
        loop.runOnce()
        #expect(order == [0, 1])
        // Started again, it is reported on the next turn.
        watchers[2].set(read: true)
        order = []
        handlers[0].onReady = {}
        loop.runOnce()
        #expect(order == [0, 1, 2])
        watchers.removeAll()
    }

    @Test func aWatcherFreedEarlierInTheTurnGetsNothing() {
        let loop = EventLoop()
        let pairs = readablePairs(3)
        defer { close(pairs) }
        var order: [Int] = []
        let handlers = (0..<3).map { i in Recorder(i) { order.append($0) } }
        var watchers: [IOWatcher?] = (0..<3).map { i in IOWatcher(loop: loop, fd: pairs[i].read, handler: handlers[i]) }
        handlers[1].onReady = { watchers[2] = nil }
        for w in watchers { w?.set(read: true) }
        loop.runOnce()
        #expect(order == [0, 1])
        #expect(watchers[2] == nil)
    }

    @Test func aFedReadOfADescriptorWithNothingToReadIsDelivered() {
        let loop = EventLoop()
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { Glibc.close(fds[0]); Glibc.close(fds[1]) }
        var order: [Int] = []
        let handler = Recorder(0) { order.append($0) }
        let watcher = IOWatcher(loop: loop, fd: fds[0], handler: handler)
        watcher.set(read: true)
        loop.runOnce()
        #expect(order.isEmpty)
        watcher.feedRead()
        loop.runOnce()
        #expect(order == [0])
        loop.runOnce()
        #expect(order == [0])
    }
}

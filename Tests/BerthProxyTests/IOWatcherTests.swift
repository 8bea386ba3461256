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

    /// A loop with `count` socket pairs, a recorder and a watcher (not yet
    /// started) on each reading end; `readable`: a byte waits in each.
    final class Fixture {
        let loop = EventLoop()
        var order: [Int] = []
        private var fds: [Int32] = []
        private(set) var handlers: [Recorder] = []
        var watchers: [IOWatcher?] = []

        init(_ count: Int, readable: Bool = true) {
            for i in 0..<count {
                var pair: [Int32] = [0, 0]
                #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
                if readable { #expect(write(pair[1], "x", 1) == 1) }
                fds += pair
                handlers.append(Recorder(i) { [unowned self] in order.append($0) })
                watchers.append(IOWatcher(loop: loop, fd: pair[0], handler: handlers[i]))
            }
        }

        func startAll() { for w in watchers { w?.set(read: true) } }

        deinit {
            watchers.removeAll()
            for fd in fds { close(fd) }
        }
    }

    @Test func aTurnsEventsRunInTheOrderEpollReportedThem() {
        let f = Fixture(8)
        // Already readable when libev adds them: epoll reports them in the order they were added.
        f.startAll()
        f.loop.runOnce()
        #expect(f.order == Array(0..<8))
    }

    @Test func aWatcherStoppedEarlierInTheTurnGetsNothing() {
        let f = Fixture(3)
        f.handlers[0].onReady = { [unowned f] in f.watchers[2]!.stop() }
        f.startAll()
        f.loop.runOnce()
        #expect(f.order == [0, 1])
        // Started again, it is reported on the next turn.
        f.watchers[2]!.set(read: true)
        f.order = []
        f.handlers[0].onReady = {}
        f.loop.runOnce()
        #expect(f.order == [0, 1, 2])
    }

    @Test func aWatcherFreedEarlierInTheTurnGetsNothing() {
        let f = Fixture(3)
        f.handlers[1].onReady = { [unowned f] in f.watchers[2] = nil }
        f.startAll()
        f.loop.runOnce()
        #expect(f.order == [0, 1])
        #expect(f.watchers[2] == nil)
    }

    @Test func aFedReadOfADescriptorWithNothingToReadIsDelivered() {
        let f = Fixture(1, readable: false)
        f.startAll()
        f.loop.runOnce()
        #expect(f.order.isEmpty)
        f.watchers[0]!.feedRead()
        f.loop.runOnce()
        #expect(f.order == [0])
        f.loop.runOnce()
        #expect(f.order == [0])
    }
}

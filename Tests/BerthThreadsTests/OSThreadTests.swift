#if canImport(Glibc)
import Glibc
#endif
import Testing
import Synchronization
import BerthThreads

@Suite struct OSThreadTests {
    @Test func joinableThreadRunsItsBodyBeforeJoinReturns() throws {
        let ran = Atomic<Int>(0)
        let tid = try OSThread.start { ran.store(42, ordering: .relaxed) }
        OSThread.join(tid)
        #expect(ran.load(ordering: .relaxed) == 42)
    }

    @Test func detachedThreadRuns() throws {
        let done = Mutex<Bool>(false)
        let sem = DispatchSemaphoreLike()
        try OSThread.detach {
            done.withLock { $0 = true }
            sem.signal()
        }
        sem.wait()
        #expect(done.withLock { $0 })
    }

    @Test func startErrorNamesTheReason() {
        let e = OSThread.StartError(code: 11)  // EAGAIN
        #expect(e.description.hasPrefix("cannot start a thread: "))
        #expect(e.description.count > "cannot start a thread: ".count)
    }
}

/// A semaphore without Foundation.
private final class DispatchSemaphoreLike: Sendable {
    private let flag = Atomic<Bool>(false)
    func signal() { flag.store(true, ordering: .releasing) }
    func wait() { while !flag.load(ordering: .acquiring) { sched_yield() } }
}

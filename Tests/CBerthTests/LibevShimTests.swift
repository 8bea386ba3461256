import Testing
import CBerthEV
import CBerthCrypto

/// The shims must drive a real libev loop: a timer fires, an async wakes it.
@Suite struct LibevShimTests {
    @Test func timerFiresAndBreaksLoop() {
        let loop = cberth_loop_new()!
        defer { cberth_loop_destroy(loop) }
        let timer = UnsafeMutablePointer<ev_timer>.allocate(capacity: 1)
        defer { timer.deallocate() }
        let fired = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { fired.deallocate() }
        fired.pointee = 0
        cberth_timer_init(timer, { loop, w, _ in
            w!.pointee.data.assumingMemoryBound(to: Int32.self).pointee += 1
            cberth_loop_break(loop)
        }, 0.01, 0)
        timer.pointee.data = UnsafeMutableRawPointer(fired)
        cberth_timer_start(loop, timer)
        let before = cberth_loop_now(loop)
        cberth_loop_run(loop)
        #expect(fired.pointee == 1)
        #expect(cberth_loop_now(loop) >= before + 0.009)
    }

    @Test func randomBytesAreNotConstant() {
        var a = [UInt8](repeating: 0, count: 16), b = a
        #expect(cberth_random_bytes(&a, 16) == 1)
        #expect(cberth_random_bytes(&b, 16) == 1)
        #expect(a != b)
    }
}

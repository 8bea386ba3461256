#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds of wall-clock time, comparable across threads (libev's
/// `ev_now` is the same clock in seconds).
enum WallClock {
    static var milliseconds: Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }

    static var seconds: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

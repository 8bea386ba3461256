#if canImport(Glibc)
import Glibc
#endif

/// Starts a closure on a new POSIX thread (the event loops, the admin
/// listener and the health checkers each need a real thread of their own).
/// The closure is retained for the thread and released when it has run.
enum OSThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// The started thread, for `pthread_join`; nil if the system refused one.
    @discardableResult
    static func start(detached: Bool = false, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            return nil
        }
        if detached { pthread_detach(tid) }
        return tid
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Starts a closure on a new POSIX thread: the one thread helper of the
/// project (event loops, the admin listener, health checkers, container
/// supervisors and replica gates each need a real thread of their own).
/// The closure is retained for the thread and released when it has run, or
/// at once when the system refuses a thread; the caller gets the error.
public enum OSThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Why no thread was started: `pthread_create`'s error number.
    public struct StartError: Error, CustomStringConvertible, Sendable {
        public let code: Int32
        public init(code: Int32) { self.code = code }
        public var description: String { "cannot start a thread: \(String(cString: strerror(code)))" }
    }

    /// A joinable thread running `body`; `join` it.
    public static func start(_ body: @escaping @Sendable () -> Void) throws(StartError) -> pthread_t {
        try create(body)
    }

    /// A detached thread running `body` (nobody joins it).
    public static func detach(_ body: @escaping @Sendable () -> Void) throws(StartError) {
        let tid = try create(body)
        pthread_detach(tid)
    }

    /// Waits for a thread from `start` to return.
    public static func join(_ tid: pthread_t) {
        pthread_join(tid, nil)
    }

    private static func create(_ body: @escaping @Sendable () -> Void) throws(StartError) -> pthread_t {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw StartError(code: rc)
        }
        return tid
    }
}

import BerthThreads
import Foundation

/// Runs `body(i)` for every `i` in `0..<count`, each on a thread of its own,
/// and returns when all are done. For work that blocks (builds, waiting for
/// a container to stop): `DispatchQueue.concurrentPerform` runs only as many
/// at once as there are cores, so ten stops with a 10 s grace on two cores
/// would take 50 s instead of 10.
func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    if count == 0 { return }
    if count == 1 { return body(0) }
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        do {
            try OSThread.detach {
                body(i)
                group.leave()
            }
        } catch {
            // No thread to be had: do this one here (slower, never skipped).
            body(i)
            group.leave()
        }
    }
    group.wait()
}

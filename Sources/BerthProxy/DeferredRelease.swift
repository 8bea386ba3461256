import Dispatch

/// Lets go of a retired route table on a background queue a moment after a
/// reload switched away from it: freeing thousands of routes (their names,
/// paths and index entries) took about a millisecond of the reload itself at
/// 2,000 apps. The delay only makes it likely that the reload's own
/// references are gone first; if one is not, the table is freed where it
/// was before, on the control thread.
enum DeferredRelease {
    private static let queue = DispatchQueue(label: "berth.release", qos: .background)

    static func later(_ table: RouteTable) {
        queue.asyncAfter(deadline: .now() + .milliseconds(50)) { withExtendedLifetime(table) {} }
    }
}

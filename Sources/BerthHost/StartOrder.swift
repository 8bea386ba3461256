import Foundation

/// Apps start after the apps they link to: a consumer's deploy waits until
/// each linked app being started with it has passed its gates (or failed).
/// Config checks refuse cycles, so every wait ends.
final class StartOrder: @unchecked Sendable {
    private let condition = NSCondition()
    /// Apps being started and not finished yet.
    private var pending: Set<String>
    private var failed: [String: String] = [:]

    init(starting names: some Sequence<String>) {
        pending = Set(names)
    }

    /// Waits for those of `apps` still starting; returns the ones that failed, with why.
    func wait(for apps: [String]) -> [String: String] {
        condition.lock()
        defer { condition.unlock() }
        while apps.contains(where: pending.contains) { condition.wait() }
        return failed.filter { apps.contains($0.key) }
    }

    /// `app` passed its gates (`error` nil) or failed.
    func finished(_ app: String, error: String? = nil) {
        condition.lock()
        pending.remove(app)
        if let error { failed[app] = error }
        condition.broadcast()
        condition.unlock()
    }
}

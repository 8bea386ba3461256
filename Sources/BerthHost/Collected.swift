import Synchronization

/// Results gathered from parallel work (one app per thread): by key, and in
/// arrival order.
final class Collected<Value: Sendable>: Sendable {
    private let items = Mutex<[(key: String, value: Value)]>([])

    func add(_ key: String, _ value: Value) {
        items.withLock { $0.append((key, value)) }
    }

    func append(_ value: Value) {
        items.withLock { $0.append(("", value)) }
    }

    var all: [String: Value] {
        items.withLock { Dictionary($0.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }) }
    }

    var ordered: [Value] { items.withLock { $0.map(\.value) } }
}

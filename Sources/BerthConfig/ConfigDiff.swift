/// What changed between two configs, for reload logs and for deciding what a
/// reload has to touch (listeners, apps) and what needs a restart.
public struct ConfigDiff: Sendable, Equatable {
    public var appsAdded: [String] = []
    public var appsRemoved: [String] = []
    public var appsChanged: [String] = []
    /// Where each of `appsChanged` is in the new config's apps.
    public var appsChangedPositions: [Int] = []
    /// Changed apps whose container settings changed (they need new
    /// containers; the rest of `appsChanged` changed routing only).
    public var appsNeedingNewContainers: [String] = []
    public var listensAdded: [HostPort] = []
    public var listensRemoved: [HostPort] = []
    /// Settings a reload cannot change in place (the old value stays).
    public var needsRestart: [String] = []
    /// Other top-level settings that changed (timeouts, limits, ...).
    public var settingsChanged: [String] = []

    public init(from old: Config, to new: Config) {
        // Apps in the same order as before (the usual reload) compare pair
        // by pair; from the first that differs by name, by name through an
        // index of positions (not copies of the apps).
        var common = 0
        while common < min(old.apps.count, new.apps.count), old.apps[common].name == new.apps[common].name {
            compare(old.apps[common], new.apps[common], at: common)
            common += 1
        }
        if common < old.apps.count || common < new.apps.count {
            var oldIndex = [String: Int](minimumCapacity: old.apps.count - common)
            for i in common..<old.apps.count where oldIndex[old.apps[i].name] == nil { oldIndex[old.apps[i].name] = i }
            var newNames = Set<String>(minimumCapacity: new.apps.count - common)
            for (position, a) in new.apps.enumerated().dropFirst(common) {
                newNames.insert(a.name)
                guard let i = oldIndex[a.name] else { appsAdded.append(a.name); continue }
                compare(old.apps[i], a, at: position)
            }
            appsRemoved = old.apps[common...].map(\.name).filter { !newNames.contains($0) }
        }
        let oldListens = Set(old.listens.map(\.address)), newListens = Set(new.listens.map(\.address))
        listensAdded = new.listens.map(\.address).filter { !oldListens.contains($0) }
        listensRemoved = old.listens.map(\.address).filter { !newListens.contains($0) }
        if old.workers != new.workers { needsRestart.append("workers") }
        if old.accessLog != new.accessLog { needsRestart.append("access-log") }
        if old.admin != new.admin { needsRestart.append("admin") }
        if old.stateDir != new.stateDir { needsRestart.append("state-dir") }
        if old.runtime != new.runtime { needsRestart.append("runtime") }
        let oldTLS = Dictionary(old.listens.map { ($0.address, $0.tls) }, uniquingKeysWith: { a, _ in a })
        if new.listens.contains(where: { l in oldTLS[l.address].map { $0 != l.tls } ?? false }) {
            settingsChanged.append("tls")
        }
        if old.acme != new.acme || old.tlsAutoNames != new.tlsAutoNames { settingsChanged.append("acme") }
        if old.timeouts != new.timeouts { settingsChanged.append("timeouts") }
        if old.limits != new.limits { settingsChanged.append("limits") }
    }

    private mutating func compare(_ before: AppConfig, _ a: AppConfig, at position: Int) {
        guard !Self.same(before, a) else { return }
        appsChanged.append(a.name)
        appsChangedPositions.append(position)
        if before.containerSettings != a.containerSettings { appsNeedingNewContainers.append(a.name) }
    }

    /// Apps compare without where they were written.
    static func same(_ a: AppConfig, _ b: AppConfig) -> Bool {
        if a.location == b.location { return a == b }
        var b2 = b
        b2.location = a.location
        return a == b2
    }

    public var isEmpty: Bool {
        appsAdded.isEmpty && appsRemoved.isEmpty && appsChanged.isEmpty && listensAdded.isEmpty
            && listensRemoved.isEmpty && needsRestart.isEmpty && settingsChanged.isEmpty
    }

    /// `added=a,b removed=c changed=d listen+=:8081` — for one log line.
    public var summary: String {
        var parts: [String] = []
        func add(_ key: String, _ values: [String]) {
            if !values.isEmpty { parts.append("\(key)=\(values.joined(separator: ","))") }
        }
        add("added", appsAdded)
        add("removed", appsRemoved)
        add("changed", appsChanged)
        add("listen+", listensAdded.map(\.description))
        add("listen-", listensRemoved.map(\.description))
        add("settings", settingsChanged)
        add("needs-restart", needsRestart)
        return parts.isEmpty ? "no changes" : parts.joined(separator: " ")
    }
}

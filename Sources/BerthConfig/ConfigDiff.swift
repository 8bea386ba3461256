/// What changed between two configs, for reload logs and for deciding what a
/// reload has to touch (listeners, apps) and what needs a restart.
public struct ConfigDiff: Sendable, Equatable {
    public var appsAdded: [String] = []
    public var appsRemoved: [String] = []
    public var appsChanged: [String] = []
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
        // Indexes by name (positions, not copies of the apps: a diff of
        // thousands of apps is a few hundred microseconds).
        var oldIndex = [String: Int](minimumCapacity: old.apps.count)
        for (i, a) in old.apps.enumerated() where oldIndex[a.name] == nil { oldIndex[a.name] = i }
        var newNames = Set<String>(minimumCapacity: new.apps.count)
        for a in new.apps {
            newNames.insert(a.name)
            guard let i = oldIndex[a.name] else { appsAdded.append(a.name); continue }
            let before = old.apps[i]
            guard !Self.same(before, a) else { continue }
            appsChanged.append(a.name)
            if before.containerSettings != a.containerSettings { appsNeedingNewContainers.append(a.name) }
        }
        appsRemoved = old.apps.map(\.name).filter { !newNames.contains($0) }
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
        if old.timeouts != new.timeouts { settingsChanged.append("timeouts") }
        if old.limits != new.limits { settingsChanged.append("limits") }
    }

    /// Apps compare without where they were written.
    static func same(_ a: AppConfig, _ b: AppConfig) -> Bool {
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

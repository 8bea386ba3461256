/// The rules that span apps for `link`: each names a container app with a
/// port (never itself), each local port is free in the consumer, and no
/// cycle of links exists (linked apps start first, so a cycle never starts).
enum LinkChecks {
    static func check(_ apps: inout [AppConfig]) throws(ConfigError) {
        guard apps.contains(where: { !$0.links.isEmpty }) else { return }
        var index: [String: Int] = [:]
        for (i, a) in apps.enumerated() { index[a.name] = i }
        for (a, app) in apps.enumerated() where !app.links.isEmpty {
            guard app.runsContainers else {
                throw ConfigError(app.links[0].location, "link: app '\(app.name)' runs no containers (it has upstream servers): only build and image apps have links")
            }
            guard app.network != .host else {
                throw ConfigError(app.links[0].location, "link: app '\(app.name)' runs with 'network host': a link listens inside the app's own network namespace")
            }
            var ports: [Int: String] = [:]
            for (j, l) in app.links.enumerated() {
                guard let t = index[l.app] else {
                    let hint = DirectiveSuggestion.nearest(to: l.app, in: apps.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                    throw ConfigError(l.location, "link: no app named '\(l.app)'\(hint)")
                }
                guard l.app != app.name else { throw ConfigError(l.location, "link: app '\(app.name)' cannot link to itself") }
                let target = apps[t]
                guard target.runsContainers, let targetPort = target.listenPort else {
                    let what = target.runsContainers ? "a worker (no port)" : "an app of upstream servers"
                    throw ConfigError(l.location, "link: app '\(l.app)' is \(what): only a container app with a port can be linked")
                }
                let local = l.port ?? targetPort
                if local == app.listenPort {
                    throw ConfigError(l.location, "link \(l.app): local port \(local) is app '\(app.name)''s own port; pick another, like 'link \(l.app) \(local == 15432 ? 25432 : 15432)'")
                }
                if let other = ports[local] {
                    throw ConfigError(l.location, "link \(l.app): local port \(local) is already the port of 'link \(other)'")
                }
                ports[local] = l.app
                apps[a].links[j].localPort = local
            }
        }
        // Depth-first over the link graph: a link back to an app on the path is a cycle.
        var state = [UInt8](repeating: 0, count: apps.count)  // 0 new, 1 on the path, 2 done
        func visit(_ i: Int, path: [String]) throws(ConfigError) {
            state[i] = 1
            for l in apps[i].links {
                let t = index[l.app]!
                if state[t] == 1 {
                    let cycle = (path + [apps[i].name, l.app]).drop { $0 != l.app }.joined(separator: " -> ")
                    throw ConfigError(l.location, "link: a cycle of links (\(cycle)) could never start: linked apps start first")
                }
                if state[t] == 0 { try visit(t, path: path + [apps[i].name]) }
            }
            state[i] = 2
        }
        for i in apps.indices where state[i] == 0 && !apps[i].links.isEmpty { try visit(i, path: []) }
    }
}

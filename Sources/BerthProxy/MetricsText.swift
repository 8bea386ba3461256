import BerthConfig

/// Renders the Prometheus text exposition format (version 0.0.4) from worker
/// snapshots and the published state.
enum MetricsText {
    static func render(_ snaps: [WorkerSnapshot], _ state: ProxyServer.PublishedState) -> String {
        var apps: [AppStats] = []
        for s in snaps {
            if apps.count < s.apps.count { apps += Array(repeating: AppStats(), count: s.apps.count - apps.count) }
            for (i, a) in s.apps.enumerated() { apps[i].add(a) }
        }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        family("berth_requests_total", "counter", "Requests answered, by app and status class.")
        for (i, a) in apps.enumerated() where a.count > 0 {
            for c in 0..<5 where a.byClass[c] > 0 {
                out += "berth_requests_total{app=\"\(label(state.appNames[i]))\",code=\"\(c + 1)xx\"} \(a.byClass[c])\n"
            }
        }
        family("berth_request_duration_seconds", "histogram", "Time from a request's head to the end of its answer, by app.")
        for (i, a) in apps.enumerated() where a.count > 0 {
            let app = label(state.appNames[i])
            var cumulative: UInt64 = 0
            for (b, bound) in AppStats.bounds.enumerated() {
                cumulative += a.buckets[b]
                out += "berth_request_duration_seconds_bucket{app=\"\(app)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "berth_request_duration_seconds_bucket{app=\"\(app)\",le=\"+Inf\"} \(a.count)\n"
            out += "berth_request_duration_seconds_sum{app=\"\(app)\"} \(a.sum)\n"
            out += "berth_request_duration_seconds_count{app=\"\(app)\"} \(a.count)\n"
        }
        family("berth_client_connections", "gauge", "Open client connections.")
        out += "berth_client_connections \(snaps.reduce(0) { $0 + $1.clientConnections })\n"
        family("berth_upstream_connections", "gauge", "Open connections to upstream servers (in use or pooled).")
        out += "berth_upstream_connections \(snaps.reduce(0) { $0 + $1.upstreamConnections })\n"
        family("berth_spliced_bytes_total", "counter", "Response body bytes passed from upstream to client sockets by splice(2), never copied to user space.")
        out += "berth_spliced_bytes_total \(snaps.reduce(0) { $0 + $1.splicedBytes })\n"
        family("berth_upstream_up", "gauge", "1 when an upstream server may get requests (health checks), else 0.")
        for r in state.table.routes {
            for s in r.servers {
                out += "berth_upstream_up{app=\"\(label(r.name))\",server=\"\(label(s.name))\"} \(s.health.isUp ? 1 : 0)\n"
            }
        }
        family("berth_reloads_total", "counter", "Config reloads, by result.")
        out += "berth_reloads_total{result=\"applied\"} \(state.reloadsApplied)\n"
        out += "berth_reloads_total{result=\"rejected\"} \(state.reloadsRejected)\n"
        family("berth_config_generation", "gauge", "The generation of the config in force (1 at start, +1 per applied reload).")
        out += "berth_config_generation \(state.generation)\n"
        family("berth_build_info", "gauge", "Build information.")
        out += "berth_build_info{version=\"\(BuildInfo.version)\"} 1\n"
        return out
    }

    /// Label values escape backslash, quote and newline.
    static func label(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}

import Testing
import Foundation
@testable import BerthProxy

@Suite struct AdminIntegrationTests {
    /// /metrics must parse with the Prometheus project's own Python parser and
    /// carry the counts of what the test did.
    @Test func metricsParseAndCount() throws {
        try withServer(upstreamApp, workers: 2, extra: "admin 127.0.0.1:0\n") { (server: ProxyServer, port: Int) throws in
            for _ in 0..<5 { _ = try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n") }
            _ = try request(port, "GET /missing HTTP/1.1\r\nHost: h\r\n\r\n")
            let admin = server.adminPort!
            #expect(try run(["curl", "-sf", "http://127.0.0.1:\(admin)/healthz"]).1 == "ok\n")
            #expect(try curlStatus("http://127.0.0.1:\(admin)/nope") == 404)
            let script = """
            import json, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen("http://127.0.0.1:\(admin)/metrics").read().decode()
            out = {}
            for fam in text_string_to_metric_families(text):
                for s in fam.samples:
                    key = s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}"
                    out[key] = s.value
            print(json.dumps(out))
            """
            let (status, json) = try run(["python3", "-c", script])
            #expect(status == 0, "the Prometheus parser refused /metrics")
            let m = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Double] ?? [:]
            #expect(m["berth_requests_total{app=u,code=2xx}"] == 5)
            #expect(m["berth_requests_total{app=none,code=4xx}"] == 1)
            #expect(m["berth_request_duration_seconds_count{app=u}"] == 5)
            #expect(m["berth_request_duration_seconds_bucket{app=u,le=+Inf}"] == 5)
            #expect(m["berth_upstream_up{app=u,server=127.0.0.1:\(UpstreamProcess.shared.port)}"] == 1)
            #expect(m["berth_config_generation{}"] == 1)
            #expect(m["berth_reloads_total{result=applied}"] == 0)
            #expect(m["berth_build_info{version=\(BuildInfo.version)}"] == 1)
            #expect(m["berth_client_connections{}"] != nil)
            #expect(m["berth_upstream_connections{}"] ?? 0 >= 1)
        }
    }
}

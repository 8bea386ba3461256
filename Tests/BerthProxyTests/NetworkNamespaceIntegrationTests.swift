import Testing
import Foundation
import BerthConfig
import BerthRouting
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// The test upstream in a network namespace of its own (loopback only).
final class NamespacedUpstream {
    let process = Process()
    let port: Int
    var netns: String { "/proc/\(process.processIdentifier)/ns/net" }
    private let stdin = Pipe()

    init() throws {
        let script = Bundle.module.url(forResource: "upstream", withExtension: "py", subdirectory: "Fixtures")!
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["unshare", "-n", "sh", "-c", "ip link set lo up && exec python3 \(script.path) 0"]
        process.standardInput = stdin
        guard let p = try startPrintingPort(process) else { throw TestError("namespaced upstream did not start") }
        port = p
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite struct NetworkNamespaceIntegrationTests {
    @Test func proxyReachesAnUpstreamInsideItsNamespace() throws {
        let up = try NamespacedUpstream()
        // The host's loopback does not have it.
        #expect(throws: TestError.self) { _ = try RawClient(port: up.port) }
        let config = try Config.parse(proxyConfig("app c {\n path /c\n build apps/c\n}\n", workers: 2), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([Placement(netns: up.netns, port: up.port)])]))
        try server.start()
        defer { server.stop() }
        for _ in 0..<6 {  // both workers, fresh and pooled connections
            let r = try request(server.ports[0], "GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(r.status == 200)
            #expect(r.json["server_port"] as? Int == up.port)
        }
        // The workers are back in the host's namespace: host upstreams still work.
        let both = try Config.parse(proxyConfig("app c {\n path /c\n build apps/c\n}\n" + upstreamApp, workers: 2), file: "t")
        _ = try server.apply(RoutingInput(config: both, apps: ["c": .ready([Placement(netns: up.netns, port: up.port)])]))
        #expect(try request(server.ports[0], "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n").json["server_port"] as? Int == UpstreamProcess.shared.port)
        #expect(try request(server.ports[0], "GET /c/echo HTTP/1.1\r\nHost: h\r\n\r\n").json["server_port"] as? Int == up.port)
    }

    /// A replica's server name carries its namespace (`127.0.0.1:P@/proc/N/ns/net`);
    /// what goes on the wire as Host for a request without one is `127.0.0.1:P` (Go's
    /// net/http answers 400 to the other; the demo end-to-end test covers the health check).
    @Test func hostHeaderForANamespacedReplicaIsItsAddress() throws {
        let up = try NamespacedUpstream()
        let config = try Config.parse(proxyConfig("app c {\n path /c\n build apps/c\n}\n"), file: "t")
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([Placement(netns: up.netns, port: up.port)])]))
        try server.start()
        defer { server.stop() }
        let r = try request(server.ports[0], "GET /c/echo HTTP/1.0\r\n\r\n")
        let headers = (r.json["headers"] as? [[String]] ?? []).filter { $0.first?.lowercased() == "host" }
        #expect(headers.map { $0.last ?? "" } == ["127.0.0.1:\(up.port)"])
    }
}

import Testing
@testable import BerthConfig

/// `upstream h2c://ADDR` and `proto h2c|http1`: what berth speaks to an
/// app's servers, one protocol per app.
@Suite struct UpstreamProtocolTests {
    func parse(_ body: String) throws -> AppConfig {
        try Config.parse("listen :1\napp g {\n\(body)\n}\n", file: "p.conf").apps[0]
    }

    func error(_ body: String) -> String {
        do {
            _ = try parse(body)
            return "parsed"
        } catch {
            return "\(error)"
        }
    }

    @Test func schemesAndTheProtoDirective() throws {
        let h2 = try parse("path /g\nupstream h2c://127.0.0.1:9000 h2c://127.0.0.1:9001")
        #expect(h2.proto == .h2c)
        #expect(h2.upstreams.map(\.description) == ["127.0.0.1:9000", "127.0.0.1:9001"])
        #expect(try parse("path /g\nupstream 127.0.0.1:9000").proto == .http1)
        #expect(try parse("path /g\nupstream http://127.0.0.1:9000").proto == .http1)
        // A bare address speaks what the app's proto says.
        #expect(try parse("path /g\nproto h2c\nupstream 127.0.0.1:9000").proto == .h2c)
        #expect(try parse("path /g\nupstream h2c://127.0.0.1:9000 127.0.0.1:9001").proto == .h2c)
        #expect(try parse("build .\nport 50051\nproto h2c").proto == .h2c)
    }

    @Test func mistakesSayWhereAndWhy() {
        #expect(error("path /g\nupstream h2c://127.0.0.1:9000 http://127.0.0.1:9001").hasPrefix("p.conf:4:31: error: upstream: 'http://127.0.0.1:9001': every upstream of an app speaks the same protocol"))
        #expect(error("path /g\nupstream https://127.0.0.1:9000").contains("p.conf:4:10: error: upstream: 'https://127.0.0.1:9000': the scheme is http:// (HTTP/1.1) or h2c://"))
        #expect(error("path /g\nproto h3\nupstream 127.0.0.1:9000").contains("p.conf:4:7: error: proto: expected 'http1' or 'h2c', got 'h3'"))
        #expect(error("path /g\nproto h2c\nhealth GET /healthz\nupstream 127.0.0.1:9000").contains("p.conf:5:1: error: app 'g' speaks h2c: 'health PATH' probes with HTTP/1.1"))
    }
}

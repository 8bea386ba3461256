import Testing
import BerthConfig

@Suite struct ValueSyntaxTests {
    @Test func hostPort() {
        #expect(HostPort.parse(":8080") == HostPort(host: "", port: 8080))
        #expect(HostPort.parse("8080") == HostPort(host: "", port: 8080))
        #expect(HostPort.parse("[::1]:9") == HostPort(host: "::1", port: 9))
        #expect(HostPort.parse("example.com", defaultPort: 80) == HostPort(host: "example.com", port: 80))
        #expect(HostPort.parse("example.com") == nil)
        #expect(HostPort.parse("::1:80") == nil)
        #expect(HostPort.parse("a b:80") == nil)
        #expect(HostPort(host: "::1", port: 9).description == "[::1]:9")
        #expect(HostPort.parse("", defaultPort: 80) == nil)
        #expect(HostPort.parse("h:") == nil && HostPort.parse("h:65536") == nil && HostPort.parse("h:+80") == nil)
        #expect(HostPort.parse("[::1]") == nil && HostPort.parse("[::1]", defaultPort: 80) == HostPort(host: "::1", port: 80))
        #expect(HostPort.parse("[::1]x") == nil && HostPort.parse("héllo:80") == nil)
        #expect(HostPort.parse("h:00080") == HostPort(host: "h", port: 80))
    }

    @Test func durationsAndSizesThroughTheParser() throws {
        let c = try Config.parse("""
        listen :1
        timeouts {
          connect 1.5s
          header 2m
          idle 1h
        }
        limits {
          header-size 1M
          body-size 1G
        }
        """, file: "f")
        #expect(c.timeouts.connect == 1.5)
        #expect(c.timeouts.header == 120)
        #expect(c.timeouts.idle == 3600)
        #expect(c.limits.headerSize == 1 << 20)
        #expect(c.limits.bodySize == 1 << 30)
    }
}

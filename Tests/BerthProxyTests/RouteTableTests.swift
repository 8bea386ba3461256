import Testing
@testable import BerthProxy
import BerthConfig
import BerthRouting

@Suite struct RouteTableTests {
    func table(_ apps: String) throws -> RouteTable {
        try RouteTable(config: Config.parse("listen :1\n" + apps, file: "t"))
    }

    func match(_ t: RouteTable, _ path: String, host: String? = nil) -> String? {
        let p = Array(path.utf8)
        let h = host.map { Array($0.utf8) }
        return p.withUnsafeBytes { pb in
            if let h {
                return h.withUnsafeBytes { hb in t.match(host: hb, path: pb)?.name }
            }
            return t.match(host: nil, path: pb)?.name
        }
    }

    @Test func longestPrefixOnSegmentBoundary() throws {
        let t = try table("""
        app ruby {
          path /ruby
          upstream 127.0.0.1:1
        }
        app rubyapi {
          path /ruby/api
          upstream 127.0.0.1:2
        }
        app root {
          path /
          upstream 127.0.0.1:3
        }
        """)
        #expect(match(t, "/ruby") == "ruby")
        #expect(match(t, "/ruby/") == "ruby")
        #expect(match(t, "/ruby/x") == "ruby")
        #expect(match(t, "/rubyx") == "root")
        #expect(match(t, "/ruby/api") == "rubyapi")
        #expect(match(t, "/ruby/api/v1") == "rubyapi")
        #expect(match(t, "/ruby/apix") == "ruby")
        #expect(match(t, "/") == "root")
    }

    @Test func hostMatchIgnoresCaseAndPort() throws {
        let t = try table("""
        app a {
          host a.example.com
          path /x
          upstream 127.0.0.1:1
        }
        app any {
          path /x
          upstream 127.0.0.1:2
        }
        """)
        #expect(match(t, "/x", host: "A.Example.COM:8080") == "a")
        #expect(match(t, "/x", host: "a.example.com") == "a")
        #expect(match(t, "/x", host: "b.example.com") == "any")
        #expect(match(t, "/x") == "any")
        #expect(match(t, "/y") == nil)
    }

    @Test func serversAreSharedAcrossRoutes() throws {
        let t = try table("""
        app a {
          path /a
          upstream 127.0.0.1:9000 127.0.0.1:9001
        }
        app b {
          path /b
          upstream 127.0.0.1:9001
        }
        app c {
          path /c
          build apps/c
        }
        """)
        #expect(t.servers.count == 2)
        #expect(t.routes.first { $0.name == "b" }!.servers.map(\.id) == [1])
        #expect(t.routes.first { $0.name == "a" }!.servers[1] === t.routes.first { $0.name == "b" }!.servers[0])
        #expect(t.routes.first { $0.name == "c" }!.servers.isEmpty)
    }

    @Test func aReloadKeepsTheRoutesItDidNotChange() throws {
        let registry = UpstreamRegistry(logger: .init(label: "berth.test"))
        func config(_ extra: String = "") throws -> Config {
            try Config.parse("""
            listen :1
            app a {
              path /a
              upstream 127.0.0.1:9000
            }
            app b {
              path /b
              upstream 127.0.0.1:9001\(extra)
            }
            app c {
              path /c
              build apps/c
            }
            """, file: "t")
        }
        let before = try config()
        let first = try RouteTable(RoutingInput(config: before, apps: [:]), registry: registry, generation: 1)
        func route(_ t: RouteTable, _ name: String) -> Route { t.routes.first { $0.name == name }! }

        // b's balance changes: only b gets a new Route.
        let after = try config("\n  balance leastconn")
        let diff = ConfigDiff(from: before, to: after)
        #expect(diff.appsChangedPositions == [1])
        let second = try RouteTable(RoutingInput(config: after, apps: [:]), registry: registry, generation: 2,
                                    reusing: first, changed: Set(diff.appsChangedPositions))
        #expect(route(second, "a") === route(first, "a"))
        #expect(route(second, "c") === route(first, "c"))
        #expect(route(second, "b") !== route(first, "b"))
        #expect(route(second, "b").balance == .leastConn)
        #expect(second.reusedRoutes == 2)
        #expect(second.servers.map(\.id) == first.servers.map(\.id))

        // c's replicas are placed: c's servers changed, so c is new; a and b stay.
        let placed = try RouteTable(RoutingInput(config: after, apps: ["c": .ready([Placement(netns: nil, port: 8123)])]),
                                    registry: registry, generation: 2, reusing: second)
        #expect(route(placed, "c") !== route(second, "c"))
        #expect(route(placed, "c").servers.map(\.name) == ["127.0.0.1:8123"])
        #expect(route(placed, "a") === route(second, "a"))
        #expect(placed.servers.count == 3)

        // Apps in another order are matched by name, never by position alone.
        let reordered = try Config.parse("listen :1\napp b {\n path /a\n upstream 127.0.0.1:9000\n}\napp a {\n path /b\n upstream 127.0.0.1:9001\n}\n", file: "t")
        let moved = try RouteTable(RoutingInput(config: reordered, apps: [:]), registry: registry, generation: 3,
                                   reusing: first, changed: Set(ConfigDiff(from: before, to: reordered).appsChangedPositions))
        #expect(match(moved, "/a") == "b")
        #expect(match(moved, "/b") == "a")
        #expect(moved.reusedRoutes == 0)
    }
}

/// The route index against the rule spelled out as a scan, over many apps,
/// hosts and paths (a seeded generator: the same cases every run).
@Suite struct RouteIndexTests {
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func indexAgreesWithTheScanEverywhere() throws {
        var rng = Seeded(state: 42)
        let words = ["a", "b", "ab", "api", "v1", "v2", "ruby", "rubyx", "static", "x"]
        let hosts = ["one.test", "Two.Test", "three.test"]
        var conf = "listen :1\n"
        var seen = Set<String>()
        for i in 0..<300 {
            let depth = Int.random(in: 0...3, using: &rng)
            let path = depth == 0 ? "/" : "/" + (0..<depth).map { _ in words.randomElement(using: &rng)! }.joined(separator: "/")
            let host = Bool.random(using: &rng) ? hosts.randomElement(using: &rng)! : nil
            guard seen.insert("\(host ?? "")\(path)").inserted else { continue }
            conf += "app a\(i) {\n path \(path)\n\(host.map { " host \($0)\n" } ?? "") upstream 127.0.0.1:\(1000 + i)\n}\n"
        }
        let t = try RouteTable(config: Config.parse(conf, file: "t"))
        for _ in 0..<5000 {
            let depth = Int.random(in: 0...4, using: &rng)
            var path = "/" + (0..<depth).map { _ in words.randomElement(using: &rng)! }.joined(separator: "/")
            if Bool.random(using: &rng) { path += "/" }
            if Int.random(in: 0..<5, using: &rng) == 0 { path += "?q=1" }
            let host: String? = Int.random(in: 0..<4, using: &rng) == 0 ? nil
                : (hosts + ["other.test", "ONE.TEST:8080", "[::1]:80"]).randomElement(using: &rng)!
            let p = Array(path.split(separator: "?")[0].utf8)
            let h = host.map { Array($0.utf8) }
            let (indexed, scanned) = p.withUnsafeBytes { pb in
                h.withUnsafeBytesOrNil { hb in (t.match(host: hb, path: pb)?.name, t.scan(host: hb, path: pb)?.name) }
            }
            #expect(indexed == scanned, "host \(host ?? "-") path \(path)")
        }
    }
}

extension Optional where Wrapped == [UInt8] {
    func withUnsafeBytesOrNil<R>(_ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBytes { body($0) }
    }
}

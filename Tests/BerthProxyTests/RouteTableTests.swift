import Testing
@testable import BerthProxy
import BerthConfig

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
}

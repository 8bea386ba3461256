import Foundation
import Testing
@testable import BerthConfig

/// The reload parser (each top-level statement lexed alone, unchanged app
/// blocks taken from the last parse) against the whole-file parser.
@Suite struct ConfigParseCacheTests {
    static func apps(_ n: Int, changing changed: Int? = nil) -> String {
        var text = "listen 127.0.0.1:8080\nworkers 1\n"
        for i in 1...n {
            text += "app a\(i) {\n    path /app\(i)\n    upstream 127.0.0.1:9000\n"
            if i == changed { text += "    balance leastconn\n" }
            text += "}\n"
        }
        return text
    }

    @Test func givesWhatTheWholeFileParserGives() throws {
        let texts = [
            ConfigParserTests.full,
            "listen :1\napp a { upstream h:1\n}  app b { upstream h:2\n path /b }\n",
            "listen :1 # a { comment\napp \"a\" {\n  env \"X={\"\n  upstream h:1 # }\n}\n",
            "listen :1\ntimeouts { connect 1s }\napp é {\n upstream h:1\n path /e\n}\n",
            "  listen :1\n\tapp a {\n\t\tupstream h:1\n\t}\n",
            "listen :1\napp a {\n  upstream h:1\n}",
        ]
        for text in texts {
            var cache = ConfigParseCache()
            let whole = try Config.parse(text, file: "proxy.conf")
            #expect(try Config.parse(text, file: "proxy.conf", reusing: &cache) == whole)
            // Again, from the cache.
            #expect(try Config.parse(text, file: "proxy.conf", reusing: &cache) == whole)
        }
    }

    @Test func splitsAtTopLevelStatements() throws {
        let text = "listen :1\napp a { upstream h:1 } app b {\n upstream \"}\"\n}\n# app c {\nworkers 2\n"
        let spans = try #require(TopLevelSpans.split(Array(text.utf8)))
        let bytes = Array(text.utf8)
        #expect(spans.map { String(decoding: bytes[$0.range], as: UTF8.self) }
                == ["listen :1", "app a { upstream h:1 }", "app b {\n upstream \"}\"\n}", "workers 2"])
        #expect(spans.map(\.isApp) == [false, true, true, false])
        #expect(spans.map(\.line) == [1, 2, 2, 6])
        // Text the scan cannot follow is left to the whole-file parser.
        #expect(TopLevelSpans.split(Array("listen :1\n}\n".utf8)) == nil)
        #expect(TopLevelSpans.split(Array("app a {\n".utf8)) == nil)
        #expect(TopLevelSpans.split(Array("listen \"a\n".utf8)) == nil)
    }

    @Test func aReloadRebuildsOnlyTheAppThatChanged() throws {
        var cache = ConfigParseCache()
        _ = try Config.parse(Self.apps(2000), file: "proxy.conf", reusing: &cache)
        #expect(cache.reused == 0)
        let edited = Self.apps(2000, changing: 2000)
        let config = try Config.parse(edited, file: "proxy.conf", reusing: &cache)
        #expect(cache.reused == 1999)
        #expect(config == (try Config.parse(edited, file: "proxy.conf")))
        #expect(config.apps.last?.balance == .leastConn)
        // An edit that keeps the line count leaves every other block reusable.
        let middle = Self.apps(2000).replacingOccurrences(of: "path /app1000\n", with: "path /elsewhere\n")
        let moved = try Config.parse(middle, file: "proxy.conf", reusing: &cache)
        #expect(cache.reused == 1998)  // app1000 changed; app2000 changed back
        #expect(moved.apps[999].path == "/elsewhere")
        // Another file's blocks are never taken.
        _ = try Config.parse(middle, file: "other.conf", reusing: &cache)
        #expect(cache.reused == 0)
    }

    @Test func duplicatesAcrossReusedAndNewAppsAreStillFound() throws {
        var cache = ConfigParseCache()
        _ = try Config.parse(Self.apps(3), file: "proxy.conf", reusing: &cache)
        let dup = Self.apps(3) + "app a2 {\n    path /other\n    upstream 127.0.0.1:9000\n}\n"
        #expect(throws: ConfigError.self) { try Config.parse(dup, file: "proxy.conf", reusing: &cache) }
        let sameRoute = Self.apps(3) + "app b {\n    path /app2\n    upstream 127.0.0.1:9000\n}\n"
        let e = #expect(throws: ConfigError.self) { try Config.parse(sameRoute, file: "proxy.conf", reusing: &cache) }
        #expect(e?.message.contains("routes the same path /app2 as app 'a2'") == true)
        // A refused parse leaves the cache of the last good one.
        _ = try Config.parse(Self.apps(3), file: "proxy.conf", reusing: &cache)
        #expect(cache.reused == 3)
    }

    @Test func appsThatReadFilesAreReadAgain() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-parse-cache-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("proxy.conf").path
        try "GREETING=one\n".write(toFile: dir.appendingPathComponent("web.env").path, atomically: true, encoding: .utf8)
        let text = "listen :1\napp web {\n  image web\n  port 8000\n  env-file web.env\n}\n"
        var cache = ConfigParseCache()
        #expect(try Config.parse(text, file: file, reusing: &cache).apps[0].envFileVars.map(\.value) == ["one"])
        try "GREETING=two\n".write(toFile: dir.appendingPathComponent("web.env").path, atomically: true, encoding: .utf8)
        #expect(try Config.parse(text, file: file, reusing: &cache).apps[0].envFileVars.map(\.value) == ["two"])
        #expect(cache.reused == 0)
    }

    @Test func hashedPositionsConfirmEveryCandidate() {
        var index = HashedPositions()
        let names = ["a", "b", "c", "d"]
        // All four under one hash: each is still found, and only itself.
        for i in names.indices { index.insert(42, i) }
        for (i, n) in names.enumerated() {
            #expect(index.first(42, where: { names[$0] == n }) == i)
        }
        #expect(index.first(42, where: { _ in false }) == nil)
        #expect(index.first(7, where: { _ in true }) == nil)
        // Growth keeps what was inserted.
        for i in 4..<1000 { index.insert(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, i) }
        #expect(index.first(UInt64(999) &* 0x9E37_79B9_7F4A_7C15, where: { $0 == 999 }) == 999)
        #expect(HashedPositions.hash("/a", then: nil) != HashedPositions.hash("/a", then: ""))
    }
}

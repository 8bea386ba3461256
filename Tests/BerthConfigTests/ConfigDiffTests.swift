import Testing
import BerthConfig

@Suite struct ConfigDiffTests {
    @Test func appsListensAndRestartOnlySettings() throws {
        let old = try Config.parse("""
        listen :8080
        workers 2
        app a {
          path /a
          upstream 127.0.0.1:1
        }
        app b {
          path /b
          upstream 127.0.0.1:2
        }
        """, file: "old")
        let new = try Config.parse("""
        listen :8080
        listen :8081
        workers 4

        app a {
          path /a
          upstream 127.0.0.1:1
        }
        app b {
          path /b
          upstream 127.0.0.1:3
        }
        app c {
          path /c
          upstream 127.0.0.1:4
        }
        timeouts {
          idle 5s
        }
        """, file: "new")
        let d = ConfigDiff(from: old, to: new)
        #expect(d.appsAdded == ["c"])
        #expect(d.appsRemoved == [])
        #expect(d.appsChanged == ["b"])  // a moved lines but did not change
        #expect(d.listensAdded == [HostPort(host: "", port: 8081)])
        #expect(d.needsRestart == ["workers"])
        #expect(d.settingsChanged == ["timeouts"])
        #expect(d.summary == "added=c changed=b listen+=:8081 settings=timeouts needs-restart=workers")
        #expect(ConfigDiff(from: new, to: new).isEmpty)
        #expect(ConfigDiff(from: new, to: old).appsRemoved == ["c"])
    }
}

@Suite struct ContainerSettingsTests {
    func app(_ lines: String) throws -> Config {
        try Config.parse("listen :1\napp w {\n build apps/w\n\(lines)\n}\n", file: "t")
    }

    /// Routing-only changes keep the containers; container settings don't.
    @Test func onlyContainerShapingChangesNeedNewContainers() throws {
        let base = try app("path /w\nport 8000\nenv A=1")
        for (change, needs) in [("path /x\nport 8000\nenv A=1", false),
                                ("path /w\nport 8000\nenv A=1\nhealth GET /h", false),
                                ("path /w\nport 8000\nenv A=1\nstrip-prefix off\nbalance leastconn", false),
                                ("path /w\nport 8001\nenv A=1", true),
                                ("path /w\nport 8000\nenv A=2", true),
                                ("path /w\nport 8000\nenv A=1\nreplicas 2", true),
                                ("path /w\nport 8000\nenv A=1\nmemory 64M", true),
                                ("path /w\nport 8000\nenv A=1\nnetwork host", true),
                                ("path /w\nport 8000\nenv A=1\nseccomp unconfined", true)] {
            let d = ConfigDiff(from: base, to: try app(change))
            #expect(d.appsChanged == ["w"], "\(change)")
            #expect(d.appsNeedingNewContainers == (needs ? ["w"] : []), "\(change)")
        }
    }

    @Test func reorderedAppsAreMatchedByName() throws {
        func apps(_ spec: [(String, Int)]) throws -> Config {
            try Config.parse("listen :1\n" + spec.map { "app \($0.0) {\n path /\($0.0)\n upstream 127.0.0.1:\($0.1)\n}\n" }.joined(), file: "t")
        }
        let old = try apps([("a", 1), ("b", 2), ("c", 3), ("d", 4)])
        // a stays first; c and b swap (b changes); d is removed; e is new.
        let new = try apps([("a", 1), ("c", 3), ("b", 9), ("e", 5)])
        let d = ConfigDiff(from: old, to: new)
        #expect(d.appsChanged == ["b"])
        #expect(d.appsChangedPositions == [2])
        #expect(d.appsAdded == ["e"])
        #expect(d.appsRemoved == ["d"])
        #expect(ConfigDiff(from: old, to: old).appsChangedPositions.isEmpty)
    }
}

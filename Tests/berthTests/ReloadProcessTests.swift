import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `key=value` lines of serve's reload status file.
func reloadStatus(_ dir: String) -> [String: String] {
    let text = (try? String(contentsOfFile: dir + "/reload.status", encoding: .utf8)) ?? ""
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
        if let eq = line.firstIndex(of: "=") { out[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
    }
    return out
}

@Suite(.serialized) struct ReloadProcessTests {
    func config(port: Int, upstream: Int) -> String {
        "listen 127.0.0.1:\(port)\nworkers 2\napp a {\n path /a\n upstream 127.0.0.1:\(upstream)\n}\n"
    }

    /// 50 SIGHUPs alternating two configs (one invalid in the middle) under a
    /// keep-alive load: no error, no non-2xx, both upstreams answer, and the
    /// generation moves by exactly the number of valid reloads.
    @Test func reloadUnderLoadDropsNothing() throws {
        let upA = try FixtureUpstream(), upB = try FixtureUpstream()
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 2\napp a {\n path /a\n upstream 127.0.0.1:\(upA.port)\n}\n")
        let port = serve.port
        let cfgA = config(port: port, upstream: upA.port), cfgB = config(port: port, upstream: upB.port)
        let lua = try writeTemp("""
        counts = {}
        local threads = {}
        response = function(status, headers, body)
          local p = string.match(body, '"server_port": (%d+)')
          if p then counts[p] = (counts[p] or 0) + 1 end
        end
        setup = function(thread) table.insert(threads, thread) end
        done = function(summary, latency, requests)
          local total = {}
          for _, t in ipairs(threads) do
            for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
          end
          for k, v in pairs(total) do io.write(string.format("seen %s %d\\n", k, v)) end
        end
        """, name: "count.lua")
        let wrk = Process()
        wrk.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        wrk.arguments = ["wrk", "-t2", "-c16", "-d12s", "-s", lua, "http://127.0.0.1:\(port)/a/echo"]
        let wrkOut = Pipe()
        wrk.standardOutput = wrkOut
        try wrk.run()
        Thread.sleep(forTimeInterval: 0.5)
        var valid = 0
        for i in 0..<50 {
            let text = i == 25 ? "listen 127.0.0.1:\(port)\nworkrs 2\n" : (i % 2 == 0 ? cfgB : cfgA)
            try text.write(toFile: serve.configPath, atomically: true, encoding: .utf8)
            if i != 25 { valid += 1 }
            kill(serve.process.processIdentifier, SIGHUP)
            #expect(eventually(5) { reloadStatus(serve.stateDir)["sequence"] == "\(i + 1)" }, "reload \(i + 1) got no answer")
            Thread.sleep(forTimeInterval: 0.17)
        }
        let out = String(decoding: wrkOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        wrk.waitUntilExit()
        print(out)
        let requests = Int(out.split(separator: "\n").first { $0.contains("requests in") }?
            .split(separator: " ").first ?? "0") ?? 0
        #expect(requests > 1000)
        #expect(!out.contains("Socket errors"), "\(out)")
        #expect(!out.contains("Non-2xx"), "\(out)")
        #expect(out.contains("seen \(upA.port) "))
        #expect(out.contains("seen \(upB.port) "))
        #expect(reloadStatus(serve.stateDir)["generation"] == "\(1 + valid)")
        let log = serve.stderrText()
        #expect(log.components(separatedBy: "reload rejected").count - 1 == 1)
        #expect(log.contains("\(serve.configPath):2:1: error: unknown directive 'workrs'"))
        let took = log.split(separator: "\n").compactMap { line -> Double? in
            guard line.contains("reload applied"), let r = line.range(of: "took_ms=") else { return nil }
            return Double(line[r.upperBound...].prefix { $0 == "." || $0.isNumber })
        }.sorted()
        #expect(took.count == valid)
        if !took.isEmpty {
            print("reload under load: \(requests) requests, \(valid) applied + 1 rejected reloads; SIGHUP→table serving median \(took[took.count / 2]) ms, max \(took.last!) ms")
        }
        #expect(serve.terminate() == 0)
    }

    @Test func reloadCommandReportsAppliedOrTheErrorLocation() throws {
        let up = try FixtureUpstream()
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 1\napp a {\n path /a\n upstream 127.0.0.1:\(up.port)\n}\n")
        try "listen 127.0.0.1:\(serve.port)\nworkers 1\napp a {\n path /a\n upstrem 127.0.0.1:1\n}\n"
            .write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let (bad, _, badErr) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", serve.stateDir])
        #expect(bad == 1)
        #expect(badErr.contains("\(serve.configPath):5:2: error: unknown directive 'upstrem'"))
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/a/echo").1 == "200")
        try "listen 127.0.0.1:\(serve.port)\nworkers 1\napp b {\n path /b\n upstream 127.0.0.1:\(up.port)\n}\n"
            .write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let (good, out, _) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", serve.stateDir])
        #expect(good == 0)
        #expect(out.contains("applied generation 2"))
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/b/echo").1 == "200")
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/a/echo").1 == "404")
        #expect(serve.terminate() == 0)
        let (none, _, noneErr) = try runBerth(["reload", "--state-dir", serve.stateDir])
        #expect(none == 1)
        #expect(noneErr.contains("no running berth serve"))
    }

    /// Serve cannot write its status file: `berth reload` hears so from
    /// serve at once instead of waiting out its timeout.
    @Test func reloadReportsAStatusFileServeCannotWrite() throws {
        let up = try FixtureUpstream()
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 1\napp a {\n path /a\n upstream 127.0.0.1:\(up.port)\n}\n")
        // A directory where serve writes its temporary status file.
        try FileManager.default.createDirectory(atPath: serve.stateDir + "/reload.status.tmp", withIntermediateDirectories: true)
        let start = Date()
        let (status, _, err) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", serve.stateDir, "--timeout", "30"])
        #expect(status == 1)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(err.contains("could not write \(serve.stateDir)/reload.status"), "\(err)")
        #expect(serve.stderrText().contains("reload status not written"))
        // A plain SIGHUP gets no answer, and serve keeps serving.
        kill(serve.process.processIdentifier, SIGHUP)
        #expect(eventually(5) { serve.stderrText().components(separatedBy: "reload status not written").count == 3 })
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/a/echo").1 == "200")
        #expect(serve.terminate() == 0)
    }

    @Test func sigtermDrainsInFlightRequestsAndExitsZero() throws {
        let up = try FixtureUpstream()
        let serve = try ServeProcess(config: "listen 127.0.0.1:0\nworkers 2\napp a {\n path /a\n upstream 127.0.0.1:\(up.port)\n}\n")
        let slow = try Background(["curl", "-s", "-w", " %{http_code}", "http://127.0.0.1:\(serve.port)/a/slow?delay=1.5"])
        Thread.sleep(forTimeInterval: 0.4)
        let start = Date()
        #expect(serve.terminate() == 0)
        #expect(Date().timeIntervalSince(start) > 0.8)  // it waited for the request
        #expect(slow.finish() == "slow\n 200")
        #expect(serve.stderrText().contains("drained: exiting"))
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return condition()
}

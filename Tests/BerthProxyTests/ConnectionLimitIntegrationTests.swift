import Testing
import Foundation

@Suite struct ConnectionLimitIntegrationTests {
    /// Over `limits connections` new connections wait in the backlog and are
    /// served once a slot frees up.
    @Test func connectionsOverTheLimitWait() throws {
        try withProxy(upstreamApp, extra: "limits {\n connections 2\n}\n") { (port: Int) throws in
            let c1 = try RawClient(port: port), c2 = try RawClient(port: port)
            c1.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            c2.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try c1.readResponse().status == 200)
            #expect(try c2.readResponse().status == 200)
            let waiting = try RawClient(port: port, timeout: 0.5)
            waiting.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(throws: TestError.self) { _ = try waiting.readResponse() }
            c1.send("GET /u/echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            #expect(try c1.readResponse().status == 200)
            let served = try RawClient(port: port)
            served.send("GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            _ = served
            #expect(try waiting.readResponseAfterTimeout().status == 200)
        }
    }

    /// Random bytes on many connections never take the worker down.
    @Test func garbageOnTheWireLeavesTheProxyServing() throws {
        try withProxy(upstreamApp, extra: "timeouts {\n header 200ms\n}\n") { (port: Int) throws in
            var seed: UInt64 = 7
            for i in 0..<100 {
                let c = try RawClient(port: port, timeout: 2)
                var bytes: [UInt8] = []
                for _ in 0..<(Int(seed % 300) + 1) {
                    seed = seed &* 6364136223846793005 &+ 1442695040888963407
                    bytes.append(UInt8(truncatingIfNeeded: seed >> 33))
                }
                // Half end like a head (parsed at once), half wait for the header timeout.
                c.send(Array("GET /u/echo HTTP/1.1\r\n".utf8) + bytes + (i % 2 == 0 ? Array("\r\n\r\n".utf8) : []))
                _ = c.readToEOF()
            }
            #expect(try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
        }
    }
}

extension RawClient {
    /// Reads a response with a longer patience than the socket timeout
    /// (for a connection that was waiting in the backlog).
    func readResponseAfterTimeout(tries: Int = 10) throws -> HTTPResponse {
        var last: Error = TestError("no response")
        for _ in 0..<tries {
            do { return try readResponse() } catch { last = error }
        }
        throw last
    }
}

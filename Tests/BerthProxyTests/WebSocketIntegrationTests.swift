#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite struct WebSocketIntegrationTests {
    /// A masked client frame (RFC 6455 §5.2).
    static func frame(_ payload: [UInt8], opcode: UInt8 = 1) -> [UInt8] {
        let mask: [UInt8] = [1, 2, 3, 4]
        var out: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            out.append(0x80 | UInt8(payload.count))
        } else {
            out.append(0x80 | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        out += mask
        out += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return out
    }

    @Test func echoThroughTheTunnel() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /u/ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 101)
            #expect(r.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            #expect(r.header("upgrade")?.lowercased() == "websocket")
            for msg in ["hello", String(repeating: "z", count: 1000)] {
                c.send(Self.frame(Array(msg.utf8)))
                var expected: [UInt8] = [0x81]
                expected += msg.count < 126 ? [UInt8(msg.count)] : [126, UInt8(msg.count >> 8), UInt8(msg.count & 0xFF)]
                expected += Array(msg.utf8)
                var got: [UInt8] = []
                while got.count < expected.count {
                    let more = c.readSome()
                    if more.isEmpty { break }
                    got += more
                }
                #expect(got == expected)
            }
            c.send(Self.frame([], opcode: 8))
            #expect(c.readToEOF() == [0x88, 0x00])
        }
    }

    /// The upstream resets an established tunnel (its replica was killed):
    /// the client's connection closes. The upgrade request is not replayed
    /// (the tunnel's bytes would go to a server that never saw it), and no
    /// 502 is written into the WebSocket stream.
    @Test func aTunnelWhoseUpstreamResetsIsClosedNotReplayed() throws {
        let resetting = try ResettingServer(answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        defer { resetting.stop() }
        try withProxy(app("w", "/w", [resetting.port])) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /w/ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            #expect(try c.readResponse().status == 101)
            c.send(Self.frame(Array("hello".utf8)))
            #expect(resetting.waitForResets(1))
            #expect(c.readToEOF() == [])
        }
    }
}

extension RawClient {
    /// Whatever arrives next (empty on EOF or timeout).
    func readSome() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(chunk[0..<n]) : []
    }
}

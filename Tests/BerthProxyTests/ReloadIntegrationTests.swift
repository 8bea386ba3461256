import Synchronization
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing
import Foundation
import BerthConfig
import BerthRouting
@testable import BerthProxy

/// Reloads applied in-process (`ProxyServer.apply`, what SIGHUP calls): what
/// was in flight finishes on the table it began with.
@Suite struct ReloadIntegrationTests {
    let a = UpstreamProcess.shared.port
    let b = UpstreamProcess.second.port

    func serverPort(_ r: HTTPResponse) -> Int? { r.json["server_port"] as? Int }

    @Test func newRequestsUseTheNewTableAndKeepAliveSurvives() throws {
        try withServer(app("a", "/a", [a])) { (server: ProxyServer, port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(serverPort(try c.readResponse()) == a)
            let outcome = try server.apply(Config.parse(proxyConfig(app("a", "/a", [b]) + app("n", "/n", [a])), file: "t"))
            #expect(outcome.generation == 2)
            #expect(outcome.diff.appsChanged == ["a"] && outcome.diff.appsAdded == ["n"])
            // The idle keep-alive connection from before the reload works, on the new table.
            c.send("GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(serverPort(try c.readResponse()) == b)
            c.send("GET /n/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(serverPort(try c.readResponse()) == a)
        }
    }

    @Test func longStreamInFlightAcrossAReloadCompletesIntact() throws {
        try withServer(app("a", "/a", [a])) { (server: ProxyServer, port: Int) throws in
            let n = 50 << 20
            let url = "http://127.0.0.1:\(port)/a/trickle?n=\(n)&secs=3"
            let result = Mutex<String>("")
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let out = (try? run(["sh", "-c", "curl -sf '\(url)' | sha256sum | cut -d' ' -f1"]).1) ?? ""
                result.withLock { $0 = out }
                done.signal()
            }
            Thread.sleep(forTimeInterval: 1)
            // The reload moves /a elsewhere; the stream keeps its old route.
            _ = try server.apply(Config.parse(proxyConfig(app("a", "/a", [b])), file: "t"))
            #expect(serverPort(try request(port, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n")) == b)
            done.wait()
            let (_, direct) = try run(["sh", "-c", "curl -sf 'http://127.0.0.1:\(a)/trickle?n=\(n)&secs=0' | sha256sum | cut -d' ' -f1"])
            #expect(!direct.isEmpty)
            #expect(result.withLock { $0 } == direct)
        }
    }

    @Test func webSocketSurvivesAReloadThatDoesNotTouchIt() throws {
        try withServer(app("u", "/u", [a])) { (server: ProxyServer, port: Int) throws in
            let c = try RawClient(port: port)
            c.send("GET /u/ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            #expect(try c.readResponse().status == 101)
            func echo(_ text: String) -> Bool {
                c.send(WebSocketIntegrationTests.frame(Array(text.utf8)))
                var got: [UInt8] = []
                while got.count < 2 + text.utf8.count {
                    let more = c.readSome()
                    if more.isEmpty { break }
                    got += more
                }
                return got == [0x81, UInt8(text.utf8.count)] + Array(text.utf8)
            }
            #expect(echo("before"))
            _ = try server.apply(Config.parse(proxyConfig(app("u", "/u", [a]) + app("other", "/other", [b])), file: "t"))
            #expect(echo("after"))
        }
    }

    @Test func invalidTableChangesNothing() throws {
        try withServer(app("a", "/a", [a])) { (server: ProxyServer, port: Int) throws in
            // Resolvable syntax, unservable content: a port someone else holds.
            let holder = try RawListener()
            let bad = "listen 127.0.0.1:0\nlisten 127.0.0.1:\(holder.port)\nworkers 1\n" + app("a", "/a", [b])
            #expect(throws: DataPlaneError.self) { _ = try server.apply(Config.parse(bad, file: "t")) }
            #expect(server.generation == 1)
            #expect(serverPort(try request(port, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n")) == a)
        }
    }

    @Test func listenersFollowTheConfig() throws {
        try withServer(app("a", "/a", [a])) { (server: ProxyServer, port: Int) throws in
            let extra = try RawListener()
            let spare = extra.port
            extra.close()
            let two = "listen 127.0.0.1:0\nlisten 127.0.0.1:\(spare)\nworkers 1\n" + app("a", "/a", [a])
            _ = try server.apply(Config.parse(two, file: "t"))
            #expect(try request(spare, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
            #expect(try request(port, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
            _ = try server.apply(Config.parse(proxyConfig(app("a", "/a", [a])), file: "t"))
            #expect(throws: TestError.self) { _ = try RawClient(port: spare) }
            #expect(try request(port, "GET /a/echo HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
        }
    }
}

/// A listening socket held by the test (to occupy or reserve a port).
final class RawListener {
    let fd: Int32
    let port: Int
    private var open = true

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 1)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() {
        if open { Glibc.close(fd) }
        open = false
    }

    deinit { close() }
}

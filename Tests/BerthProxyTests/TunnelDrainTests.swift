import Testing
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BerthConfig
import BerthRouting
import Synchronization
@testable import BerthProxy

/// A redeploy retiring the version WebSockets go to: the data plane leaves
/// tunnels alone while only exchanges are drained, counts them when asked,
/// and closes them with 1012 (Service Restart), spread over the window, as
/// seen by the Python `websockets` client.
@Suite struct TunnelDrainTests {
    let containerApp = "app c {\n path /c\n build apps/c\n}\n"

    /// Opens `n` WebSockets, says `open`, then prints each one's close code
    /// and when it came (seconds after all were open).
    static let clients = """
    import asyncio, sys, time, websockets
    async def one(url, t0, out):
        async with websockets.connect(url) as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
            out.append(ws)
            try:
                while True:
                    await ws.recv()
            except websockets.ConnectionClosed as e:
                print(f"closed {e.rcvd.code if e.rcvd else 'none'} {time.monotonic() - t0[0]:.3f}", flush=True)
    async def main():
        n, url = int(sys.argv[1]), sys.argv[2]
        t0, out = [0.0], []
        tasks = [asyncio.create_task(one(url, t0, out)) for _ in range(n)]
        while len(out) < n:
            await asyncio.sleep(0.01)
        t0[0] = time.monotonic()
        print("open", flush=True)
        await asyncio.gather(*tasks)
    asyncio.run(main())
    """

    @Test func retiredWebSocketsGet1012SpreadOverTheWindow() throws {
        let config = try Config.parse(proxyConfig(containerApp, workers: 2), file: "t")
        let replica = Placement(netns: nil, port: UpstreamProcess.shared.port)
        let server = try ProxyServer(RoutingInput(config: config, apps: ["c": .ready([replica])]))
        try server.start()
        defer { server.stop() }
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(UUID().uuidString).py").path
        try Self.clients.write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "8", "ws://127.0.0.1:\(server.ports[0])/c/ws"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let reader = LineReader(out)
        #expect(reader.next(timeout: 20) == "open")

        // Exchanges alone: the open tunnels do not keep the replica busy.
        let exchanges = DispatchSemaphore(value: 0)
        let exchangeOutcome = Mutex<DrainOutcome?>(nil)
        server.whenIdle([replica], timeout: 5) { o in
            exchangeOutcome.withLock { $0 = o }
            exchanges.signal()
        }
        #expect(exchanges.wait(timeout: .now() + 5) == .success)
        #expect(exchangeOutcome.withLock { $0 } == .drained)
        // Counting tunnels: busy until the deadline.
        let tunnels = DispatchSemaphore(value: 0)
        let tunnelOutcome = Mutex<DrainOutcome?>(nil)
        server.whenIdle([replica], includingTunnels: true, timeout: 0.5) { o in
            tunnelOutcome.withLock { $0 = o }
            tunnels.signal()
        }
        #expect(tunnels.wait(timeout: .now() + 5) == .success)
        #expect(tunnelOutcome.withLock { $0 } == .timedOut(busy: [replica]))

        // Retired over 2 s: every client sees 1012, not all at once.
        let closed = DispatchSemaphore(value: 0)
        server.whenIdle([replica], includingTunnels: true, timeout: 10) { o in
            if o == .drained { closed.signal() }
        }
        server.closeTunnels([replica], spread: 2) { _ in }
        var times: [Double] = []
        for _ in 0..<8 {
            guard let line = reader.next(timeout: 10) else { break }
            let f = line.split(separator: " ")
            #expect(f.count == 3 && f[0] == "closed" && f[1] == "1012", "\(line)")
            if f.count == 3, let t = Double(f[2]) { times.append(t) }
        }
        #expect(times.count == 8)
        #expect((times.max() ?? 0) - (times.min() ?? 0) > 0.3, "spread over the window: \(times)")
        #expect((times.max() ?? 99) < 4, "\(times)")
        #expect(closed.wait(timeout: .now() + 5) == .success, "the replica counts as idle once they closed")
    }
}

/// Lines from a pipe, read on a thread of their own, with a timeout.
final class LineReader: @unchecked Sendable {
    private let lines = Mutex<[String]>([])
    private let arrived = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let h = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let d = h.availableData
                if d.isEmpty { break }
                pending.append(d)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let l = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...nl)
                    lines.withLock { $0.append(l) }
                    arrived.signal()
                }
            }
        }
    }

    func next(timeout: Double) -> String? {
        guard arrived.wait(timeout: .now() + timeout) == .success else { return nil }
        return lines.withLock { $0.removeFirst() }
    }
}

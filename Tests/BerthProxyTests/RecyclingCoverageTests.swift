import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import BerthProxy

/// Recycling an HTTP/2 stream's inner connection, or the stream itself,
/// must account for every stored property: one added later has to be reset
/// in `recycle()`/`reuse(id:connection:)` or listed here as kept on purpose.
@Suite struct RecyclingCoverageTests {
    @Test func recycleAccountsForEveryPropertyOfAClientConnection() throws {
        let p = try MemoryProxy(app("u", "/u", [9001]))
        let c = ClientConnection(peer: [], worker: p.worker) { _ in ClosingPipe(MemoryPipe(name: "inner")) }
        let labels = Set(Mirror(reflecting: c).children.compactMap(\.label))
        let reset: Set = ["peer", "transport", "inBuf", "outBuf", "upOut", "parser", "ex", "tunnelFrames", "tunnelRetirement",
                          "deadline", "clientEOF", "registryIndex", "h2Stream", "h2HeadSink", "phase"]
        // Reset where an exchange first uses them; the same for every connection of a worker.
        let resetOnUse: Set = ["responseParser", "requestDecoder", "responseDecoder"]
        let kept: Set = ["worker", "tls", "acceptsH2c"]
        // Nil for any connection `recyclable` lets through.
        let checked: Set = ["upstream", "upstreamPool", "splicePipe"]
        let known = reset.union(resetOnUse).union(kept).union(checked)
        #expect(labels == known, "not accounted for: \(labels.subtracting(known)); gone: \(known.subtracting(labels))")
    }

    @Test func reuseAccountsForEveryPropertyOfAnH2Stream() throws {
        let p = try MemoryProxy(app("u", "/u", [9001]))
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[1]) }
        let connection = try #require(H2Connection(fd: fds[0], peer: [], tls: nil, worker: p.worker, initial: UnsafeRawBufferPointer(start: nil, count: 0)))
        defer { connection.close() }
        let s = H2Stream(id: 1, connection: connection)
        let labels = Set(Mirror(reflecting: s).children.compactMap(\.label))
        let reset: Set = ["id", "connectionRef", "queued", "phase", "pathRange", "authorityRange", "method", "methodRange",
                          "lineWritten", "hostWritten", "headerCount", "hasContentLength", "chunked", "requestBytes",
                          "uncredited", "requestComplete", "reset", "responseParser", "responseHead", "responseStarted",
                          "responseFraming", "responseRemaining", "decoder", "responseBody", "responseTrailers",
                          "responseDone", "deferred", "inner", "innerTransport", "headerTooLarge"]
        #expect(labels == reset, "not accounted for: \(labels.subtracting(reset)); gone: \(reset.subtracting(labels))")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import BerthProxy

/// The pipes plain bodies splice through: bytes in and out between real
/// sockets, and the worker's cap on pipes out at once.
@Suite struct SplicePipeTests {
    /// A connected pair of stream sockets (non-blocking).
    func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    @Test func bytesGoSocketToPipeToSocket() throws {
        let (upWrite, upRead) = socketPair(), (clientRead, clientWrite) = socketPair()
        defer { [upWrite, upRead, clientRead, clientWrite].forEach { _ = close($0) } }
        let pipe = try #require(SplicePipe(size: 64 << 10))
        #expect(pipe.capacity >= 64 << 10 && pipe.room == pipe.capacity)
        #expect(pipe.fill(from: upRead, count: 100) == .wouldBlock, "nothing sent yet")
        let text = Array("spliced, never copied".utf8)
        #expect(write(upWrite, text, text.count) == text.count)
        #expect(pipe.fill(from: upRead, count: 6) == .bytes(6) && pipe.held == 6)
        #expect(pipe.fill(from: upRead, count: 100) == .bytes(text.count - 6) && pipe.held == text.count)
        #expect(pipe.drain(to: clientWrite) == .bytes(text.count) && pipe.held == 0)
        var got = [UInt8](repeating: 0, count: 64)
        #expect(read(clientRead, &got, 64) == text.count && Array(got.prefix(text.count)) == text)
        _ = shutdown(upWrite, Int32(SHUT_WR))
        #expect(pipe.fill(from: upRead, count: 100) == .end)
    }

    @Test func atMostMaxLentPipesAreOutAndOnlyEmptyOnesAreKept() throws {
        let pipes = SplicePipes(size: 64 << 10, keep: 4, maxLent: 2)
        let a = try #require(pipes.take()), b = try #require(pipes.take())
        #expect(pipes.take() == nil && pipes.lent == 2, "past the cap: the buffered path")
        // A pipe still holding bytes is dropped, not kept for another exchange.
        let (w, r) = socketPair()
        defer { [w, r].forEach { _ = close($0) } }
        #expect(write(w, "x", 1) == 1 && a.fill(from: r, count: 1) == .bytes(1))
        pipes.give(a)
        pipes.give(b)
        #expect(pipes.lent == 0)
        let c = try #require(pipes.take())
        #expect(c === b && c.held == 0)
        pipes.give(c)
    }
}

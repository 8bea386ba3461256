import Testing
import BerthHTTP

/// Mutated messages must always end in a result (complete, need more or a
/// named error) and never trap, for every split of the input into reads.
@Suite struct MutationRobustnessTests {
    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let seeds = [
        "POST /u/echo?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\nhello",
        "GET http://a.b:80/p HTTP/1.0\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    ]
    static let interesting: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x2C, 0x3A, 0x3B, 0x7F, 0xFF, 0x30, 0x78, 0x2D]

    func mutate(_ base: [UInt8], _ rng: inout Rng) -> [UInt8] {
        var b = base
        for _ in 0..<(1 + rng.below(4)) {
            guard !b.isEmpty else { break }
            let i = rng.below(b.count)
            switch rng.below(4) {
            case 0: b[i] = Self.interesting[rng.below(Self.interesting.count)]
            case 1: b.remove(at: i)
            case 2: b.insert(Self.interesting[rng.below(Self.interesting.count)], at: i)
            default: b.insert(contentsOf: b[i..<min(b.count, i + rng.below(16))], at: i)
            }
        }
        return b
    }

    @Test func requestAndResponseParsersNeverTrap() {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        for n in 0..<20_000 {
            let input = mutate(Array(Self.seeds[n % Self.seeds.count].utf8), &rng)
            var req = RequestHeadParser(maxHeadSize: 256)
            var res = ResponseHeadParser()
            // Feed in two reads split at a random point, as the wire would.
            let cut = input.isEmpty ? 0 : rng.below(input.count)
            for end in [cut, input.count] {
                let r1 = input[0..<end].withUnsafeBytes { req.parse($0) }
                let r2 = input[0..<end].withUnsafeBytes { res.parse($0) }
                if case .complete(let c) = r1 { #expect(c <= end) }
                if case .complete(let c) = r2 { #expect(c <= end) }
                if r1 != .needMore && r2 != .needMore { break }
            }
        }
    }

    @Test func chunkedDecoderNeverTrapsOrOverreads() {
        var rng = Rng(state: 42)
        let base = Array("5;e=1\r\nhello\r\na\r\n0123456789\r\n0\r\nT: v\r\n\r\n".utf8)
        for _ in 0..<20_000 {
            let input = mutate(base, &rng)
            var d = ChunkedDecoder(maxTrailerSize: 64)
            var pos = 0
            var total = 0
            loop: for _ in 0..<1000 {
                let step = input.withUnsafeBytes { d.decode($0, position: &pos, maxData: 1 + rng.below(8)) }
                #expect(pos <= input.count)
                switch step {
                case .data(let o, let c):
                    #expect(o >= 0 && o + c <= input.count && c > 0)
                    total += c
                case .needMore, .done, .error: break loop
                }
            }
            #expect(total <= input.count)
        }
    }
}

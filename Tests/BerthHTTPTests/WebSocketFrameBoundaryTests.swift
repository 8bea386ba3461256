import BerthHTTP
import Testing

/// Frame boundaries found in a server's byte stream whichever way it is cut.
@Suite struct WebSocketFrameBoundaryTests {
    /// A server frame (unmasked) of `n` payload bytes, in each length form.
    func frame(_ n: Int, masked: Bool = false) -> [UInt8] {
        var out: [UInt8] = [0x82]
        let m: UInt8 = masked ? 0x80 : 0
        if n < 126 {
            out.append(m | UInt8(n))
        } else if n < 65536 {
            out += [m | 126, UInt8(n >> 8), UInt8(n & 0xFF)]
        } else {
            out.append(m | 127)
            out += (0..<8).reversed().map { UInt8((n >> ($0 * 8)) & 0xFF) }
        }
        if masked { out += [9, 9, 9, 9] }
        return out + Array(repeating: 0x41, count: n)
    }

    @Test(arguments: [1, 7, 13, 4096])
    func boundariesWhateverTheChunking(_ chunk: Int) {
        let frames = [frame(0), frame(5), frame(125), frame(126), frame(300), frame(70000), frame(3, masked: true)]
        var ends = Set<Int>()
        var at = 0
        for f in frames { at += f.count; ends.insert(at) }
        let stream = frames.flatMap { $0 }
        var b = WebSocketFrameBoundary()
        #expect(b.atBoundary)
        var seen = Set<Int>()
        var i = 0
        while i < stream.count {
            let n = min(chunk, stream.count - i)
            // Byte by byte inside a chunk, to see every position.
            for j in i..<(i + n) {
                stream[j...j].withUnsafeBytes { b.advance($0) }
                if b.atBoundary { seen.insert(j + 1) }
            }
            i += n
        }
        #expect(seen == ends)
    }

    @Test func bytesToBoundaryStopsAtTheFrameEnd() {
        var b = WebSocketFrameBoundary()
        let f = frame(10) + frame(2)
        // The header comes a byte at a time, then the payload at once.
        var i = 0
        var steps: [Int] = []
        while !(i > 0 && b.atBoundary) {
            let n = b.bytesToBoundary
            steps.append(n)
            f[i..<(i + n)].withUnsafeBytes { b.advance($0) }
            i += n
        }
        #expect(steps == [1, 1, 10])
        #expect(i == 12)
    }

    @Test func closeFrameCarries1012() {
        #expect(WebSocketFrameBoundary.closeFrame(code: 1012) == [0x88, 0x02, 0x03, 0xF4])
    }
}

import Testing
import BerthHTTP

/// The decoder keeps a trailer section's lines; `TrailerFields` forwards
/// only the fields a trailer may carry.
@Suite struct TrailerFieldsTests {
    func decode(_ text: String) -> (body: String, trailers: [UInt8], step: ChunkedDecoder.Step) {
        var d = ChunkedDecoder()
        var body: [UInt8] = []
        let bytes = Array(text.utf8)
        var pos = 0
        var last = ChunkedDecoder.Step.needMore
        bytes.withUnsafeBytes { b in
            while true {
                last = d.decode(b, position: &pos, maxData: 1 << 20)
                if case .data(let o, let n) = last { body += b[o..<(o + n)]; continue }
                break
            }
        }
        return (String(decoding: body, as: UTF8.self), d.trailers, last)
    }

    @Test func trailersAreKeptLineByLine() {
        let r = decode("3\r\nabc\r\n0\r\nX-A: 1\r\nX-B:  two \r\n\r\n")
        #expect(r.body == "abc")
        #expect(r.step == .done)
        #expect(String(decoding: r.trailers, as: UTF8.self) == "X-A: 1\r\nX-B:  two \r\n")
        #expect(decode("0\r\n\r\n").trailers.isEmpty)
    }

    @Test func framingFieldsAreNotForwarded() {
        let raw = Array("X-A: 1\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\nHost: h\r\nConnection: close\r\nX-B: two\r\n".utf8)
        var seen: [String] = []
        TrailerFields.forEach(raw) { n, v in seen.append("\(String(decoding: n, as: UTF8.self))=\(String(decoding: v, as: UTF8.self))") }
        #expect(seen == ["X-A=1", "X-B=two"])
        let out = ByteBuffer(capacity: 64)
        TrailerFields.appendLastChunk(raw, to: out)
        #expect(out.withReadableBytes { String(decoding: $0, as: UTF8.self) } == "0\r\nX-A: 1\r\nX-B: two\r\n\r\n")
    }

    @Test func aMalformedTrailerIsRefused() {
        if case .error(let e) = decode("0\r\nno colon here\r\n\r\n").step {
            #expect(e == .invalidTrailer)
        } else {
            Issue.record("a trailer line without a colon must be an error")
        }
    }
}

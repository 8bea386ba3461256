import Testing
import BerthHTTP

@Suite struct ChunkedCodecTests {
    @Test func decodesChunksExtensionsAndTrailers() {
        #expect(decodeChunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") == .success("hello world"))
        #expect(decodeChunked("A\r\n0123456789\r\n0\r\n\r\n") == .success("0123456789"))
        #expect(decodeChunked("5;name=value\r\nhello\r\n0\r\n\r\n") == .success("hello"))
        #expect(decodeChunked("5 ;ext\r\nhello\r\n0\r\n\r\n") == .success("hello"))
        #expect(decodeChunked("5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n") == .success("hello"))
    }

    @Test func dataIsLimitedByMaxData() {
        var decoder = ChunkedDecoder()
        let bytes = Array("a\r\n0123456789\r\n0\r\n\r\n".utf8)
        var pos = 0
        let step = bytes.withUnsafeBytes { decoder.decode($0, position: &pos, maxData: 4) }
        #expect(step == .data(offset: 3, count: 4))
    }

    @Test func invalidChunkSizes() {
        for bad in ["0x5\r\nhello\r\n0\r\n\r\n", "-1\r\n", "+5\r\nhello\r\n", " 5\r\nhello\r\n", "\r\n", "g\r\n", "5 5\r\n"] {
            #expect(decodeChunked(bad) == .failure(.invalidChunkSize), "\(bad.debugDescription)")
        }
    }

    @Test func chunkSizeOverflow() {
        #expect(decodeChunked("ffffffffffffffffff\r\n") == .failure(.chunkSizeOverflow))
        #expect(decodeChunked("10000000000000000\r\n") == .failure(.chunkSizeOverflow))
    }

    @Test func chunkWithMoreDataThanDeclared() {
        #expect(decodeChunked("3\r\nhello\r\n0\r\n\r\n") == .failure(.chunkDataOverrun))
    }

    @Test func bareCRInFraming() {
        #expect(decodeChunked("5\rhello\r\n0\r\n\r\n") == .failure(.bareCR))
        #expect(decodeChunked("5\r\nhello\r\n0\r\n\rX") == .failure(.bareCR))
    }

    @Test func invalidTrailer() {
        #expect(decodeChunked("5\r\nhello\r\n0\r\nbad trailer\r\n\r\n") == .failure(.invalidTrailer))
    }

    @Test func encoderRoundTrip() {
        let buffer = ByteBuffer(capacity: 64)
        ChunkedEncoder.appendChunkHeader(11, to: buffer)
        buffer.append("hello world")
        ChunkedEncoder.appendChunkEnd(to: buffer)
        ChunkedEncoder.appendLastChunk(to: buffer)
        let text = String(decoding: buffer.readableArray, as: UTF8.self)
        #expect(text == "b\r\nhello world\r\n0\r\n\r\n")
        #expect(decodeChunked(text) == .success("hello world"))
    }
}

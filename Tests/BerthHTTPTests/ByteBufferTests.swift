import Testing
import BerthHTTP

@Suite struct ByteBufferTests {
    @Test func appendConsumeCompactGrow() {
        let b = ByteBuffer(capacity: 16)
        b.append("0123456789")
        b.consume(4)
        #expect(b.readableBytes == 6)
        b.append("abcdefghij")  // needs compaction, then growth
        #expect(String(decoding: b.readableArray, as: UTF8.self) == "456789abcdefghij")
        b.appendDecimal(-1234)
        b.appendHex(255)
        #expect(String(decoding: b.readableArray, as: UTF8.self).hasSuffix("-1234ff"))
    }

    @Test func rewindReplaysConsumedBytes() {
        let b = ByteBuffer(capacity: 32)
        b.append("GET / HTTP/1.1\r\n")
        b.consume(b.readableBytes)
        b.rewind(to: 0)
        #expect(String(decoding: b.readableArray, as: UTF8.self) == "GET / HTTP/1.1\r\n")
    }
}

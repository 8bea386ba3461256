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

    /// Appends of every length from 0 to 40 (the word copies up to 16 bytes,
    /// memcpy past that) at every write offset of a word: exactly the bytes
    /// given, and nothing around them touched.
    @Test func appendsOfEveryShortLengthCopyExactlyTheirBytes() {
        let source = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for offset in 0..<8 {
            for count in 0...40 {
                let b = ByteBuffer(capacity: 128)
                b.append([UInt8](repeating: 0xEE, count: offset))
                source.withUnsafeBytes { b.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                b.append(byte: 0xDD)
                #expect(b.readableArray == [UInt8](repeating: 0xEE, count: offset) + source[0..<count] + [0xDD],
                        "offset \(offset), count \(count)")
            }
        }
    }

    @Test func rewindReplaysConsumedBytes() {
        let b = ByteBuffer(capacity: 32)
        b.append("GET / HTTP/1.1\r\n")
        b.consume(b.readableBytes)
        b.rewind(to: 0)
        #expect(String(decoding: b.readableArray, as: UTF8.self) == "GET / HTTP/1.1\r\n")
    }
}

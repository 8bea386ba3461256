/// Writes the chunked transfer coding around body bytes the proxy forwards.
public enum ChunkedEncoder {
    /// `SIZE CRLF` before `count` data bytes.
    public static func appendChunkHeader(_ count: Int, to buffer: ByteBuffer) {
        buffer.appendHex(UInt64(count))
        buffer.append("\r\n")
    }

    /// The CRLF after a chunk's data.
    public static func appendChunkEnd(to buffer: ByteBuffer) {
        buffer.append("\r\n")
    }

    /// The last chunk with an empty trailer section.
    public static func appendLastChunk(to buffer: ByteBuffer) {
        buffer.append("0\r\n\r\n")
    }
}

/// The trailer section a `ChunkedDecoder` kept, read field by field for
/// forwarding: fields that frame or route a message (RFC 9110 §6.5.1:
/// Content-Length, Transfer-Encoding, Host, the hop-by-hop ones) are never
/// forwarded from a trailer, whatever the sender put there.
public enum TrailerFields {
    /// Calls `body` with each forwardable field's name and trimmed value.
    public static func forEach(_ raw: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        raw.withUnsafeBytes { b in
            var start = 0
            while start < b.count {
                var end = start
                while end + 1 < b.count && !(b[end] == 0x0D && b[end + 1] == 0x0A) { end += 1 }
                if end + 1 >= b.count { return }
                // Validated line by line as the decoder kept them: a parse never fails here.
                if let f = try? HeaderLine.parse(b, start: start, end: end, lineEnd: end + 2), forwardable(f.kind) {
                    body(UnsafeRawBufferPointer(rebasing: b[f.lineStart..<f.nameEnd]),
                         UnsafeRawBufferPointer(rebasing: b[f.valueStart..<f.valueEnd]))
                }
                start = end + 2
            }
        }
    }

    static func forwardable(_ kind: KnownHeader) -> Bool {
        switch kind {
        case .contentLength, .transferEncoding, .host, .expect: return false
        default: return !kind.isHopByHop
        }
    }

    /// The last chunk with the forwardable fields of `raw` as its trailer section.
    public static func appendLastChunk(_ raw: [UInt8], to buffer: ByteBuffer) {
        buffer.append("0\r\n")
        forEach(raw) { name, value in
            buffer.append(name)
            buffer.append(": ")
            buffer.append(value)
            buffer.append("\r\n")
        }
        buffer.append("\r\n")
    }
}

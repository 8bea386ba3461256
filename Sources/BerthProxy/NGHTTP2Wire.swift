import BerthHTTP
import CNGHTTP2

/// The memory-buffer I/O of an nghttp2 session, server (`H2Session`) or
/// client (`H2ClientSession`) alike: bytes in, bytes out, no socket.
enum NGHTTP2Wire {
    /// Feeds received bytes; false on a connection error.
    static func receive(_ session: OpaquePointer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        return nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count) >= 0
    }

    /// Appends what the session has to send to `out`, up to about `limit`
    /// bytes in it; false on a fatal error.
    static func send(_ session: OpaquePointer, into out: ByteBuffer, limit: Int) -> Bool {
        while out.readableBytes < limit {
            var data: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &data)
            if n < 0 { return false }
            if n == 0 { break }
            out.append(UnsafeRawBufferPointer(start: data, count: n))
        }
        return true
    }
}

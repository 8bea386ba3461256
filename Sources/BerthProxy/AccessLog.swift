#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP

/// One JSON line per request, batched per worker and written before the loop
/// blocks. Lines are flushed in writes of at most PIPE_BUF bytes cut at line
/// ends, so workers sharing stdout never interleave inside a line.
final class AccessLog {
    /// The fields of one line; strings are bytes already in hand.
    struct Entry {
        var start: Double
        var duration: Double
        var client: [UInt8]
        var method: UnsafeRawBufferPointer
        var path: UnsafeRawBufferPointer
        var status: Int
        var bytesIn: Int
        var bytesOut: Int
        var app: [UInt8]?
        var upstream: [UInt8]?
        var requestID: UnsafeRawBufferPointer?
        /// Answered by the draining old version after the new one's 404 (`skew-retry`).
        var skewRetried = false
        /// Came over HTTP/2 (one stream of an h2 connection).
        var h2 = false
    }

    private let fd: Int32
    private let buffer = ByteBuffer(capacity: 64 * 1024)
    private var cachedSecond = -1
    private var cachedStamp: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
    }

    func record(_ e: Entry) {
        buffer.append("{\"time\":\"")
        appendTime(e.start)
        buffer.append("\",\"client\":\"")
        buffer.append(e.client)
        buffer.append("\",\"method\":\"")
        appendEscaped(e.method)
        buffer.append("\",\"path\":\"")
        appendEscaped(e.path)
        buffer.append("\",\"status\":")
        buffer.appendDecimal(e.status)
        buffer.append(",\"bytes_in\":")
        buffer.appendDecimal(e.bytesIn)
        buffer.append(",\"bytes_out\":")
        buffer.appendDecimal(e.bytesOut)
        buffer.append(",\"duration_ms\":")
        let micros = Int((e.duration * 1_000_000).rounded())
        buffer.appendDecimal(micros / 1000)
        buffer.append(byte: UInt8(ascii: "."))
        let frac = micros % 1000
        if frac < 100 { buffer.append(byte: 0x30) }
        if frac < 10 { buffer.append(byte: 0x30) }
        buffer.appendDecimal(frac)
        buffer.append(",\"app\":")
        appendOptional(e.app)
        buffer.append(",\"upstream\":")
        appendOptional(e.upstream)
        buffer.append(",\"request_id\":")
        if let id = e.requestID {
            buffer.append(byte: UInt8(ascii: "\""))
            appendEscaped(id)
            buffer.append(byte: UInt8(ascii: "\""))
        } else {
            buffer.append("null")
        }
        if e.skewRetried { buffer.append(",\"skew_retry\":true") }
        if e.h2 { buffer.append(",\"proto\":\"h2\"") }
        buffer.append("}\n")
        if buffer.readableBytes > 48 * 1024 { flush() }
    }

    func flush() {
        while !buffer.isEmpty {
            let chunk = buffer.withReadableBytes { b -> Int in
                if b.count <= Int(PIPE_BUF) { return b.count }
                var end = Int(PIPE_BUF)
                while end > 0 && b[end - 1] != 0x0A { end -= 1 }
                return end > 0 ? end : Int(PIPE_BUF)
            }
            let n = buffer.withReadableBytes { Glibc.write(fd, $0.baseAddress, chunk) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                break  // a stuck or broken log must not stop the proxy: drop the batch
            }
            buffer.consume(n)
        }
        buffer.clear()
    }

    private func appendOptional(_ v: [UInt8]?) {
        guard let v else { buffer.append("null"); return }
        buffer.append(byte: UInt8(ascii: "\""))
        v.withUnsafeBytes { appendEscaped($0) }
        buffer.append(byte: UInt8(ascii: "\""))
    }

    private func appendEscaped(_ s: UnsafeRawBufferPointer) {
        for c in s {
            switch c {
            case UInt8(ascii: "\""): buffer.append("\\\"")
            case UInt8(ascii: "\\"): buffer.append("\\\\")
            case 0..<0x20, 0x7F...0xFF:
                buffer.append("\\u00")
                buffer.appendHex(UInt64(c), minimumDigits: 2)
            default: buffer.append(byte: c)
            }
        }
    }

    /// RFC 3339 UTC with milliseconds; the date part is formatted once a second.
    private func appendTime(_ t: Double) {
        let sec = Int(t)
        if sec != cachedSecond {
            cachedSecond = sec
            var tt = time_t(sec)
            var tm = tm()
            gmtime_r(&tt, &tm)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            cachedStamp = Array("\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)).".utf8)
        }
        buffer.append(cachedStamp)
        let ms = Int((t - Double(sec)) * 1000)
        if ms < 100 { buffer.append(byte: 0x30) }
        if ms < 10 { buffer.append(byte: 0x30) }
        buffer.appendDecimal(ms)
        buffer.append(byte: UInt8(ascii: "Z"))
    }
}

import BerthHTTP
import CNGHTTP2

/// Header fields for nghttp2's submit calls, built up field by field: names
/// and values laid end to end in one byte array (not two arrays per field),
/// and the `nghttp2_nv` array made on the stack for the call (nghttp2 copies
/// what it keeps).
struct H2HeaderList {
    /// The fields' bytes are `bytes[0..<used]`; past that is room already
    /// allocated (and zeroed once), so appending is a bounds check and a
    /// copy, not `Array.append(contentsOf:)`'s generic path.
    private var bytes: [UInt8] = []
    private var used = 0
    private var spans: [Span] = []

    private struct Span {
        var start: Int
        var nameCount: Int
        var valueCount: Int
    }

    init(capacity: Int = 0, fields: Int = 0) {
        bytes = [UInt8](repeating: 0, count: capacity)
        spans.reserveCapacity(fields)
    }

    init(_ fields: [(name: [UInt8], value: [UInt8])]) {
        self.init(capacity: fields.reduce(0) { $0 + $1.name.count + $1.value.count }, fields: fields.count)
        for f in fields {
            f.name.withUnsafeBytes { n in f.value.withUnsafeBytes { v in append(name: n, value: v) } }
        }
    }

    /// Empties the list and keeps its memory (a connection reuses one list for its streams' heads).
    mutating func removeAll() {
        used = 0
        spans.removeAll(keepingCapacity: true)
    }

    var isEmpty: Bool { spans.isEmpty }
    var count: Int { spans.count }

    /// `lowercasingName`: HTTP/1.1 names are case-insensitive, HTTP/2's are lowercase (RFC 9113 §8.2.1).
    mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, lowercasingName: Bool = false) {
        let start = used
        let end = start + name.count + value.count
        if end > bytes.count {
            bytes.append(contentsOf: repeatElement(0, count: max(end - bytes.count, bytes.count)))
        }
        spans.append(Span(start: start, nameCount: name.count, valueCount: value.count))
        bytes.withUnsafeMutableBufferPointer { b in
            let base = b.baseAddress!
            if let n = name.baseAddress, name.count > 0 {
                if lowercasingName {
                    ByteClass.copyLowercased(from: n, to: UnsafeMutableRawPointer(base + start), count: name.count)
                } else {
                    UnsafeMutableRawPointer(base + start).copyMemory(from: n, byteCount: name.count)
                }
            }
            if let v = value.baseAddress, value.count > 0 {
                UnsafeMutableRawPointer(base + start + name.count).copyMemory(from: v, byteCount: value.count)
            }
        }
        used = end
    }

    mutating func append(_ name: StaticString, _ value: StaticString) {
        append(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
               value: UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    /// `:status`, which goes first in a response's HEADERS.
    mutating func appendStatus(_ status: Int) {
        precondition((100...999).contains(status))
        let name: StaticString = ":status"
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3) { digits in
            digits.initializeElement(at: 0, to: UInt8(0x30 + status / 100))
            digits.initializeElement(at: 1, to: UInt8(0x30 + status / 10 % 10))
            digits.initializeElement(at: 2, to: UInt8(0x30 + status % 10))
            append(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value: UnsafeRawBufferPointer(digits))
        }
    }

    /// The fields as an `nghttp2_nv` array for the length of `body`
    /// (never empty: a HEADERS frame has a pseudo-header or a trailer field).
    func withNV<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        precondition(!spans.isEmpty)
        if bytes.isEmpty {  // every name and value empty: still a valid pointer
            var padded = self
            padded.bytes = [0]
            return padded.withNV(body)
        }
        return bytes.withUnsafeBufferPointer { b in
            // nghttp2's nv fields are non-const but only read: it copies them into its frame.
            let base = UnsafeMutablePointer(mutating: b.baseAddress!)
            return withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: spans.count) { nva in
                for (i, s) in spans.enumerated() {
                    nva.initializeElement(at: i, to: nghttp2_nv(name: base + s.start, value: base + s.start + s.nameCount,
                                                                namelen: s.nameCount, valuelen: s.valueCount,
                                                                flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                }
                return body(UnsafePointer(nva.baseAddress!), spans.count)
            }
        }
    }

    /// The same for fields held as arrays (requests and trailers).
    static func with<R>(_ fields: [(name: [UInt8], value: [UInt8])],
                        _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        H2HeaderList(fields).withNV(body)
    }
}

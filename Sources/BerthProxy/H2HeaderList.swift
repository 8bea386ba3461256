import CNGHTTP2

/// Header fields as the `nghttp2_nv` array nghttp2's submit calls take: the
/// names and values laid out in one byte array that lives for the call.
enum H2HeaderList {
    /// `fields` is never empty (a HEADERS frame has a pseudo-header or a trailer field).
    static func with<R>(_ fields: [(name: [UInt8], value: [UInt8])],
                        _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        precondition(!fields.isEmpty)
        var storage: [UInt8] = []
        storage.reserveCapacity(fields.reduce(0) { $0 + $1.name.count + $1.value.count })
        var spans: [(Int, Int, Int)] = []
        spans.reserveCapacity(fields.count)
        for f in fields {
            spans.append((storage.count, f.name.count, f.value.count))
            storage += f.name
            storage += f.value
        }
        return storage.withUnsafeMutableBufferPointer { b -> R in
            let base = b.baseAddress!
            let nva = spans.map { s in
                nghttp2_nv(name: base + s.0, value: base + s.0 + s.1, namelen: s.1, valuelen: s.2,
                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}

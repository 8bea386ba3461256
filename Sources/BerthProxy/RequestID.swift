import CBerthCrypto
import BerthHTTP

/// Makes X-Request-Id values: 16 random hex digits per worker start, then a
/// per-worker counter. Unique across workers and restarts without a syscall per request.
struct RequestIDGenerator {
    /// The random half, formatted once.
    private let prefix: [UInt8]
    private var counter: UInt64 = 0

    init() {
        var p: UInt64 = 0
        withUnsafeMutableBytes(of: &p) { raw in
            if cberth_random_bytes(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) != 1 {
                raw.storeBytes(of: UInt64.random(in: .min ... .max), as: UInt64.self)
            }
        }
        let hex = ByteBuffer(capacity: 16)
        hex.appendHex(p, minimumDigits: 16)
        prefix = hex.readableArray
    }

    /// Appends the next id (32 hex digits) to `buffer`.
    mutating func appendNext(to buffer: ByteBuffer) {
        counter &+= 1
        buffer.append(prefix)
        buffer.appendHex(counter, minimumDigits: 16)
    }
}

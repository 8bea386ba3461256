import CBerthCrypto

/// An incremental SHA-256 (OpenSSL). The C context is owned here and freed
/// by `finish()` or, if never finished, on deinit.
public final class SHA256 {
    private var context: OpaquePointer?

    public init() {
        context = cberth_sha256_new()
    }

    deinit {
        if context != nil { _ = finish() }
    }

    /// Starts over (an interrupted download restarted from byte 0).
    public func reset() {
        if context != nil { _ = finish() }
        context = cberth_sha256_new()
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let context, bytes.count > 0 else { return }
        cberth_sha256_update(context, bytes.baseAddress, bytes.count)
    }

    public func update(_ text: String) {
        var t = text
        t.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest as 64 lower-case hex digits.
    public func finish() -> String {
        guard let context else { return "" }
        self.context = nil
        var out = [UInt8](repeating: 0, count: 32)
        cberth_sha256_finish(context, &out)
        return out.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    public static func hex(_ text: String) -> String {
        let h = SHA256()
        h.update(text)
        return h.finish()
    }
}

/// Follows the frames of one direction of a WebSocket (RFC 6455 §5.2)
/// without buffering them, to know where one ends: berth may then put a
/// frame of its own into the stream (a close, 1012, when a redeploy retires
/// the tunnel) without cutting a frame of the server's in two.
public struct WebSocketFrameBoundary: Sendable, Equatable {
    /// Header bytes seen of the frame being read (at most 14).
    private var header: [UInt8] = []
    /// Payload bytes still to come of the current frame (after its header).
    private var payloadLeft: UInt64 = 0

    public init() {}

    /// Between two frames: nothing of a next one seen yet.
    public var atBoundary: Bool { header.isEmpty && payloadLeft == 0 }

    /// How many of the next bytes can pass and still stop at a boundary or
    /// inside the current header (1 while a header is being read: its length
    /// is known only once its second byte is).
    public var bytesToBoundary: Int {
        if payloadLeft > 0 { return Int(min(payloadLeft, UInt64(Int.max))) }
        return 1
    }

    /// Accounts for `bytes` as they pass.
    public mutating func advance(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        while i < n {
            if payloadLeft > 0 {
                let take = Int(min(payloadLeft, UInt64(n - i)))
                payloadLeft -= UInt64(take)
                i += take
                continue
            }
            header.append(bytes[i])
            i += 1
            if let need = Self.headerLength(header), header.count == need {
                payloadLeft = Self.payloadLength(header)
                header.removeAll(keepingCapacity: true)
            }
        }
    }

    /// The whole header's length once its first two bytes are known.
    static func headerLength(_ h: [UInt8]) -> Int? {
        guard h.count >= 2 else { return nil }
        let masked = h[1] & 0x80 != 0 ? 4 : 0
        switch h[1] & 0x7F {
        case 126: return 4 + masked
        case 127: return 10 + masked
        default: return 2 + masked
        }
    }

    static func payloadLength(_ h: [UInt8]) -> UInt64 {
        switch h[1] & 0x7F {
        case 126: return UInt64(h[2]) << 8 | UInt64(h[3])
        case 127: return (2..<10).reduce(0) { $0 << 8 | UInt64(h[$1]) }
        case let n: return UInt64(n)
        }
    }

    /// A server's close frame (unmasked) with `code` and no reason.
    public static func closeFrame(code: UInt16) -> [UInt8] {
        [0x88, 0x02, UInt8(code >> 8), UInt8(code & 0xFF)]
    }
}

/// Character classes of RFC 9110/9112, as small branch-only tests.
public enum ByteClass {
    /// tchar: the characters of a token (method, header name, coding).
    @inlinable public static func isToken(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
             UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    /// field-vchar, SP, HTAB and obs-text: what may appear inside a field value.
    @inlinable public static func isFieldValue(_ c: UInt8) -> Bool {
        c >= 0x20 ? c != 0x7F : c == 0x09
    }

    /// The offset of the first byte in `start..<end` that may not appear in a
    /// field value, or `end`. Eight bytes at a time: a word is clean when no
    /// byte is below 0x20 (TAB is rechecked bytewise) and none is 0x7F.
    @inlinable public static func firstInvalidFieldValueByte(_ buf: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int {
        var i = start
        let base = buf.baseAddress!
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= end {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let below20 = (x &- ones &* 0x20) & ~x & highs
            let y = x ^ (ones &* 0x7F)
            let is7F = (y &- ones) & ~y & highs
            if below20 | is7F != 0 { break }
            i += 8
        }
        while i < end {
            if !isFieldValue(buf[i]) { return i }
            i += 1
        }
        return end
    }

    /// A byte allowed in a request-target: visible ASCII.
    @inlinable public static func isTarget(_ c: UInt8) -> Bool {
        c > 0x20 && c < 0x7F
    }

    @inlinable public static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x37
        case 0x61...0x66: return c - 0x57
        default: return nil
        }
    }

    @inlinable public static func lower(_ c: UInt8) -> UInt8 {
        (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c
    }

    /// Case-insensitive comparison of `bytes` with a lower-case ASCII literal.
    @inlinable public static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let p = lowercase.utf8Start
        for i in 0..<bytes.count where lower(bytes[i]) != p[i] { return false }
        return true
    }
}

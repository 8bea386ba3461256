/// Character classes of RFC 9110/9112, as small branch-only tests.
public enum ByteClass {
    /// tchar: the characters of a token (method, header name, coding):
    /// DIGIT, ALPHA and ``!#$%&'*+-.^_`|~``, as one bit per ASCII byte in two
    /// words (a shift and a mask per byte, where a switch costs a dozen compares).
    @inlinable public static func isToken(_ c: UInt8) -> Bool {
        let low: UInt64 = 0x03FF_6CFA_0000_0000   // bytes 0x00...0x3F
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE  // bytes 0x40...0x7F
        let word = c < 0x40 ? low : (c < 0x80 ? high : 0)
        return (word >> UInt64(c & 0x3F)) & 1 != 0
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

    /// Copies `count` bytes from `source` to `destination`, ASCII upper case
    /// letters lowered (HTTP/2 field names): a word at a time, the last word
    /// overlapping the one before it (a name is rarely a multiple of eight).
    @inlinable public static func copyLowercased(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
        if count >= 8 {
            var i = 0
            while i + 8 < count {
                destination.storeBytes(of: lowered(source.loadUnaligned(fromByteOffset: i, as: UInt64.self)), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            let last = count - 8
            destination.storeBytes(of: lowered(source.loadUnaligned(fromByteOffset: last, as: UInt64.self)), toByteOffset: last, as: UInt64.self)
        } else if count >= 4 {
            let last = count - 4
            let head = lowered(source.loadUnaligned(as: UInt32.self))
            let tail = lowered(source.loadUnaligned(fromByteOffset: last, as: UInt32.self))
            destination.storeBytes(of: head, as: UInt32.self)
            destination.storeBytes(of: tail, toByteOffset: last, as: UInt32.self)
        } else {
            for i in 0..<count {
                destination.storeBytes(of: lower(source.load(fromByteOffset: i, as: UInt8.self)), toByteOffset: i, as: UInt8.self)
            }
        }
    }

    /// Each byte of `x` lowered if it is `A`...`Z`: its high bit is set in
    /// `upper` when its low seven bits are at least "A" and not above "Z" and
    /// the byte itself is below 0x80; 0x20 is that bit shifted down.
    @inlinable static func lowered<Word: FixedWidthInteger & UnsignedInteger>(_ x: Word) -> Word {
        let ones = Word.max / 0xFF  // 0x0101...
        let seven = x & (ones &* 0x7F)
        let atLeastA = seven &+ ones &* 0x3F
        let aboveZ = seven &+ ones &* 0x25
        let upper = atLeastA & ~aboveZ & ~x & (ones &* 0x80)
        return x | (upper >> 2)
    }

    /// Case-insensitive comparison of `bytes` with a lower-case ASCII literal.
    @inlinable public static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let p = lowercase.utf8Start
        for i in 0..<bytes.count where lower(bytes[i]) != p[i] { return false }
        return true
    }
}

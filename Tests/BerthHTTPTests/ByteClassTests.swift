import Testing
import BerthHTTP

@Suite struct ByteClassTests {
    /// RFC 9110 §5.6.2's tchar, spelled out as the grammar has it.
    private static let tchars = Set(Array("!#$%&'*+-.^_`|~0123456789".utf8)
        + Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))

    @Test func isTokenIsExactlyTcharForEveryByte() {
        for c in 0...255 {
            let byte = UInt8(c)
            #expect(ByteClass.isToken(byte) == Self.tchars.contains(byte), "byte 0x\(String(c, radix: 16))")
        }
    }

    @Test func isFieldValueAcceptsVisibleBytesSpaceTabAndObsText() {
        for c in 0...255 {
            let expected = c == 0x09 || (c >= 0x20 && c != 0x7F)
            #expect(ByteClass.isFieldValue(UInt8(c)) == expected, "byte 0x\(String(c, radix: 16))")
        }
    }

    @Test func firstInvalidFieldValueByteFindsTheFirstBadByteAtEveryOffset() {
        for length in 0...20 {
            for bad in [nil, 0x00, 0x0A, 0x0D, 0x1F, 0x7F] as [UInt8?] {
                for at in 0..<max(length, 1) {
                    var bytes = Array(repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { bytes[at] = 0x09 }  // TAB is allowed wherever it is
                    var expected = length
                    if let bad, length > 0, at + 1 < length {
                        bytes[at + 1] = bad
                        expected = at + 1
                    }
                    let found = bytes.withUnsafeBytes { ByteClass.firstInvalidFieldValueByte($0, 0, length) }
                    #expect(found == expected, "length \(length), bad \(String(describing: bad)) at \(at + 1)")
                }
            }
        }
    }

    @Test func copyLowercasedLowersExactlyTheASCIILettersAtEveryOffset() {
        for length in [1, 7, 8, 9, 16, 17, 23] {
            for c in 0...255 {
                for at in Set([0, length / 2, length - 1]) {
                    var source = Array("Ab-Z@[`{0".utf8).prefix(length).map { $0 }
                    while source.count < length { source.append(UInt8(ascii: "Q")) }
                    source[at] = UInt8(c)
                    var copy = [UInt8](repeating: 0, count: length)
                    source.withUnsafeBytes { s in
                        copy.withUnsafeMutableBytes { d in ByteClass.copyLowercased(from: s.baseAddress!, to: d.baseAddress!, count: length) }
                    }
                    #expect(copy == source.map(ByteClass.lower), "length \(length), byte 0x\(String(c, radix: 16)) at \(at)")
                }
            }
        }
    }
}

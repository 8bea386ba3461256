/// Decides whether an instruction's arguments are a JSON array of strings,
/// as Go's encoding/json would: `.strings` for exec form, `.notJSON` for the
/// shell-form fallback, `.notStrings` for a JSON array holding anything else
/// (BuildKit's hard error).
enum JSONStringArray {
    enum Result: Equatable {
        case strings([String])
        case notJSON
        case notStrings
    }

    static func parse(_ text: String) -> Result {
        var p = Parser(bytes: Array(text.utf8))
        p.skipSpace()
        guard p.peek == UInt8(ascii: "[") else { return .notJSON }
        guard let value = p.value() else { return .notJSON }
        p.skipSpace()
        guard p.atEnd, case .array(let items) = value else { return .notJSON }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { return .notStrings }
            out.append(s)
        }
        return .strings(out)
    }

    private indirect enum Value {
        case string(String)
        case array([Value])
        case other
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        mutating func value() -> Value? {
            skipSpace()
            guard let c = peek else { return nil }
            switch c {
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func array() -> Value? {
            i += 1
            var items: [Value] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                guard let v = value() else { return nil }
                items.append(v)
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
                return nil
            }
        }

        mutating func object() -> Value? {
            i += 1
            skipSpace()
            if peek == UInt8(ascii: "}") { i += 1; return .other }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), string() != nil else { return nil }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return nil }
                i += 1
                guard value() != nil else { return nil }
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "}") { i += 1; return .other }
                return nil
            }
        }

        mutating func literal(_ word: String) -> Value? {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return nil }
            i += w.count
            return .other
        }

        mutating func number() -> Value? {
            let start = i
            if peek == UInt8(ascii: "-") { i += 1 }
            guard let first = peek, first >= 0x30 && first <= 0x39 else { return nil }
            if first == 0x30 { i += 1 } else { while let d = peek, d >= 0x30 && d <= 0x39 { i += 1 } }
            if peek == UInt8(ascii: ".") {
                i += 1
                guard let d = peek, d >= 0x30 && d <= 0x39 else { return nil }
                while let d = peek, d >= 0x30 && d <= 0x39 { i += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard let d = peek, d >= 0x30 && d <= 0x39 else { return nil }
                while let d = peek, d >= 0x30 && d <= 0x39 { i += 1 }
            }
            return i > start ? .other : nil
        }

        mutating func string() -> String? {
            i += 1
            var out: [UInt8] = []
            while let c = peek {
                i += 1
                switch c {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = peek else { return nil }
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var code = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(code), peek == UInt8(ascii: "\\"),
                           i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") {
                            let save = i
                            i += 2
                            if let low = hex4(), (0xDC00..<0xE000).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                i = save
                            }
                        }
                        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                        out += Array(String(scalar).utf8)
                    default:
                        return nil
                    }
                default:
                    if c < 0x20 { return nil }
                    out.append(c)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x37)
                case 0x61...0x66: d = UInt32(c - 0x57)
                default: return nil
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }
    }
}

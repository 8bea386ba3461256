/// A YAML document as the exporter builds it: maps keep their key order (as
/// people read manifests), every string is double-quoted (never read back
/// as a number, a boolean or null), so the writer needs no YAML library.
public indirect enum YAML: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAML])
    case map([Entry])

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: YAML
        public init(_ key: String, _ value: YAML) {
            self.key = key
            self.value = value
        }
    }

    /// The block-style text of this value as a document (a map or a list).
    public var text: String {
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    /// The value at `path` of map keys (tests).
    public subscript(_ key: String) -> YAML? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    private var isInline: Bool {
        switch self {
        case .string, .int, .bool: return true
        case .list(let l): return l.isEmpty
        case .map(let m): return m.isEmpty
        }
    }

    private var inlineText: String {
        switch self {
        case .string(let s): return YAML.quote(s)
        case .int(let n): return String(n)
        case .bool(let b): return b ? "true" : "false"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let entries) where !entries.isEmpty:
            for e in entries {
                out += pad + YAML.key(e.key) + ":"
                if e.value.isInline {
                    out += " " + e.value.inlineText + "\n"
                } else if case .list = e.value {
                    out += "\n"
                    e.value.write(into: &out, indent: indent)  // list items at the key's indent
                } else {
                    out += "\n"
                    e.value.write(into: &out, indent: indent + 2)
                }
            }
        case .list(let items) where !items.isEmpty:
            for item in items {
                if item.isInline {
                    out += pad + "- " + item.inlineText + "\n"
                } else {
                    var inner = ""
                    item.write(into: &inner, indent: indent + 2)
                    // The item's first line takes the dash in place of its indent.
                    out += pad + "- " + inner.dropFirst(indent + 2)
                }
            }
        default:
            out += pad + inlineText + "\n"
        }
    }

    static func key(_ k: String) -> String {
        let plain = !k.isEmpty && k.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "." || c == "/"
        } && !(k.first!.isNumber)
        return plain ? k : quote(k)
    }

    /// A double-quoted scalar with JSON's escapes (a subset of YAML's).
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}

extension YAML: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral s: String) { self = .string(s) }
    public init(integerLiteral n: Int) { self = .int(n) }
    public init(booleanLiteral b: Bool) { self = .bool(b) }
}

/// `["a": 1, ...]` in order, for building maps.
public func yamlMap(_ entries: KeyValuePairs<String, YAML>) -> YAML {
    .map(entries.map { YAML.Entry($0.key, $0.value) })
}

/// Parsers for proxy.conf's value syntaxes: durations, sizes, switches.
enum ConfigValue {
    /// `250ms`, `5s`, `1.5s`, `2m`, `1h` → seconds.
    static func duration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
                  let v = Double(number), v >= 0 else { return nil }
            return v * scale
        }
        return nil
    }

    /// `512`, `512K`, `256M`, `1G` (binary multiples; a trailing `B` or `iB` is allowed).
    static func size(_ text: String) -> Int? {
        var t = Substring(text.uppercased())
        if t.hasSuffix("IB") { t = t.dropLast(2) } else if t.hasSuffix("B") && t.count > 1 && !t.dropLast().last!.isNumber { t = t.dropLast() }
        var scale = 1
        switch t.last {
        case "K": scale = 1 << 10
        case "M": scale = 1 << 20
        case "G": scale = 1 << 30
        case "T": scale = 1 << 40
        default: break
        }
        if scale > 1 { t = t.dropLast() }
        guard !t.isEmpty, t.allSatisfy(\.isNumber), let v = Int(t), v <= Int.max / scale else { return nil }
        return v * scale
    }

    static func onOff(_ text: String) -> Bool? {
        switch text {
        case "on", "yes", "true": return true
        case "off", "no", "false": return false
        default: return nil
        }
    }
}

/// One word of EXPOSE as Docker's port-spec parser reads it: `80`, `80/tcp`,
/// `53/udp`, `8000-8010`, `8000-8010/udp`. Ranges expand to one key per port,
/// as Docker records them in `ExposedPorts`; anything else is refused.
struct ExposedPortSpec: Equatable {
    var first: Int
    var last: Int
    var proto: String

    static let protocols: Set<String> = ["tcp", "udp", "sctp"]

    /// The `ExposedPorts` keys: `8000/tcp`, `8001/tcp`, ...
    var keys: [String] { (first...last).map { "\($0)/\(proto)" } }

    static func parse(_ word: String) -> ExposedPortSpec? {
        var portPart = Substring(word)
        var proto = "tcp"
        if let slash = word.firstIndex(of: "/") {
            portPart = word[..<slash]
            proto = word[word.index(after: slash)...].lowercased()
            guard protocols.contains(proto) else { return nil }
        }
        let bounds = portPart.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = port(bounds[0]) else { return nil }
        let last = bounds.count == 2 ? port(bounds[1]) : first
        guard let last, first <= last else { return nil }
        return ExposedPortSpec(first: first, last: last, proto: proto)
    }

    /// Decimal digits only, 0 to 65535.
    private static func port(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 5, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int(s), v <= 65535 else { return nil }
        return v
    }
}

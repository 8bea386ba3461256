/// A `host:port` as written in proxy.conf. An empty host in a `listen` means
/// every address; hosts are resolved by the proxy, not here.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `:8080`, `8080`, `127.0.0.1:8080`, `[::1]:8080`, `name:80`; `host` alone
    /// takes `defaultPort` when one is given. Works on the UTF-8 bytes (a
    /// config with thousands of upstreams parses them in linear time, fast).
    public static func parse(_ text: String, defaultPort: Int? = nil) -> HostPort? {
        let b = Array(text.utf8)
        if b.isEmpty { return nil }
        let colon = UInt8(ascii: ":")
        var hostRange = 0..<b.count
        var portRange: Range<Int>?
        if b.first == UInt8(ascii: "[") {
            guard let close = b.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostRange = 1..<close
            let rest = (close + 1)..<b.count
            if rest.first.map({ b[$0] == colon }) == true {
                portRange = (close + 2)..<b.count
            } else if !rest.isEmpty {
                return nil
            }
        } else if let last = b.lastIndex(of: colon) {
            if b[..<last].contains(colon) { return nil }  // bare IPv6 needs brackets
            portRange = (last + 1)..<b.count
            hostRange = 0..<last
        } else if !b.isEmpty && b.allSatisfy(isDigit) {
            portRange = 0..<b.count
            hostRange = 0..<0
        }
        let port: Int
        if let portRange {
            guard !portRange.isEmpty, portRange.count <= 5, b[portRange].allSatisfy(isDigit) else { return nil }
            let p = b[portRange].reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard p <= 65535 else { return nil }
            port = p
        } else if let defaultPort {
            port = defaultPort
        } else {
            return nil
        }
        for c in b[hostRange] {
            let ok = (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || isDigit(c)
                || c == 0x2E || c == 0x2D || c == colon || c == 0x5F || c == 0x25  // . - : _ %
            if !ok { return nil }
        }
        return HostPort(host: String(decoding: b[hostRange], as: UTF8.self), port: port)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
}

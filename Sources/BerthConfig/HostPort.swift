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
    /// takes `defaultPort` when one is given.
    public static func parse(_ text: String, defaultPort: Int? = nil) -> HostPort? {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":") {
            if host[..<colon].contains(":") { return nil }  // bare IPv6 needs brackets
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        } else if host.allSatisfy(\.isNumber) {
            portText = host
            host = ""
        }
        let port: Int
        if let portText {
            guard let p = Int(portText), p >= 0, p <= 65535, !portText.isEmpty, portText.allSatisfy(\.isNumber) else { return nil }
            port = p
        } else if let defaultPort {
            port = defaultPort
        } else {
            return nil
        }
        for ch in host.unicodeScalars {
            let ok = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9")
                || ch == "." || ch == "-" || ch == ":" || ch == "_" || ch == "%"
            if !ok { return nil }
        }
        return HostPort(host: String(host), port: port)
    }
}

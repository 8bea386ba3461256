import Foundation

/// Caddy's `on_demand_tls ask`: before ordering a certificate for a name no
/// config names, berth asks the operator's endpoint `URL?domain=NAME`; only a
/// 2xx answer allows it (anything else, or no answer in 5 s, refuses).
public enum OnDemandAsk {
    public static func allows(_ name: String, url: String) -> Bool {
        let query = name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name
        let full = url + (url.contains("?") ? "&" : "?") + "domain=" + query
        guard let r = try? ACMEHTTP(caFile: nil, timeout: 5).request("GET", full) else { return false }
        return (200..<300).contains(r.status)
    }
}

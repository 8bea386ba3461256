/// Kubernetes object names (RFC 1123 labels: lowercase letters, digits and
/// '-', at most 63) from berth's app names, which may also hold '_', '.'
/// and capitals.
enum KubernetesNames {
    static func label(_ name: String) -> String {
        var out = ""
        for c in name.lowercased().unicodeScalars {
            if (c >= "a" && c <= "z") || (c >= "0" && c <= "9") {
                out.unicodeScalars.append(c)
            } else {
                out += "-"
            }
        }
        while out.hasPrefix("-") { out.removeFirst() }
        while out.hasSuffix("-") { out.removeLast() }
        if out.isEmpty { out = "app" }
        return String(out.prefix(63))
    }
}

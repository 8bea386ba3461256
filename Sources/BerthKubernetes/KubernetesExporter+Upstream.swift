import BerthConfig

/// `upstream` apps: a Service without a selector, its endpoints listed in
/// EndpointSlices (one per port), so routes and links reach them by name.
extension KubernetesExporter {
    mutating func upstreamService(_ app: AppConfig) -> [YAML] {
        let name = KubernetesNames.label(app.name)
        let port = servicePort(app)
        var servicePort: [YAML.Entry] = [.init("name", "app"), .init("port", .int(port)), .init("protocol", "TCP")]
        if app.proto == .h2c { servicePort.append(.init("appProtocol", "kubernetes.io/h2c")) }
        var docs: [YAML] = [yamlMap([
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(name, app: app.name),
            "spec": yamlMap(["ports": .list([.map(servicePort)])]),
        ])]
        var byPort: [Int: [String]] = [:]
        var ports: [Int] = []
        for u in app.upstreams {
            guard Self.isIPv4(u.host) else {
                warn("\(location(app)): upstream \(u): an EndpointSlice lists IPv4 addresses; \(u.host) is not exported (use an ExternalName Service)")
                continue
            }
            if u.host.hasPrefix("127.") {
                // The API refuses loopback endpoints: in a cluster they would mean the proxy's own pod.
                warn("\(location(app)): upstream \(u): a loopback address is not an endpoint in a cluster; not exported (give the Service endpoints, or run the server as an app)")
                continue
            }
            if byPort[u.port] == nil { ports.append(u.port) }
            byPort[u.port, default: []].append(u.host)
        }
        for p in ports {
            docs.append(yamlMap([
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": metadata("\(name)-\(p)", app: app.name, extraLabels: [.init("kubernetes.io/service-name", .string(name))]),
                "addressType": "IPv4",
                "ports": .list([yamlMap(["name": "app", "port": .int(p), "protocol": "TCP"])]),
                "endpoints": .list((byPort[p] ?? []).map { yamlMap(["addresses": .list([.string($0)])]) }),
            ]))
        }
        return docs
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in UInt8(p) != nil && !p.isEmpty }
    }
}

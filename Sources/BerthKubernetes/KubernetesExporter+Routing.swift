import BerthConfig
import Foundation

/// Routed apps: an HTTPRoute each; the `listen` lines: one Gateway.
extension KubernetesExporter {
    /// The port a routed app's Service answers on.
    func servicePort(_ app: AppConfig) -> Int {
        app.runsContainers ? (app.listenPort ?? 8000) : (app.upstreams.first?.port ?? 80)
    }

    var plainListeners: [String] { config.listens.filter { $0.tls == nil }.map(listenerName) }
    var tlsListeners: [String] { config.listens.filter { $0.tls != nil }.flatMap { tlsListenerNames($0) } }

    func listenerName(_ l: ListenConfig) -> String { "http-\(l.address.port)" }

    /// One listener per certificate: the listen line's own, each `tls { }`
    /// site, or (tls auto) each name cert-manager is to issue for.
    func tlsListenerNames(_ l: ListenConfig) -> [String] {
        tlsCertificates(l).map(\.listener)
    }

    func tlsCertificates(_ l: ListenConfig) -> [(listener: String, hostname: String?, secret: String, files: (cert: String, key: String)?)] {
        let port = l.address.port
        if let tls = l.tls, let cert = tls.cert, let key = tls.key {
            return [("https-\(port)", nil, "tls-\(port)", (cert, key))]
        }
        if l.tls?.auto == true {
            return config.acmeNames.map { name in
                let label = KubernetesNames.label(name)
                return ("https-\(port)-\(label)", name, "tls-\(label)", nil)
            }
        }
        return config.tlsSites.map { site in
            let label = KubernetesNames.label(site.host)
            return ("https-\(port)-\(label)", site.host, "tls-\(label)", (site.cert, site.key))
        }
    }

    mutating func route(_ app: AppConfig) -> [YAML] {
        let name = KubernetesNames.label(app.name)
        let redirect = app.redirectHTTPS ?? config.redirectHTTPS
        var parents: [YAML] = []
        let targets = redirect && !tlsListeners.isEmpty ? tlsListeners : plainListeners + tlsListeners
        for listener in targets {
            parents.append(yamlMap(["name": .string(Self.gatewayName), "sectionName": .string(listener)]))
        }
        var rule: [YAML.Entry] = [.init("matches", .list([yamlMap(["path": yamlMap(["type": "PathPrefix", "value": .string(app.path)])])]))]
        if app.stripPrefix && app.path != "/" {
            rule.append(.init("filters", .list([yamlMap([
                "type": "URLRewrite",
                "urlRewrite": yamlMap(["path": yamlMap(["type": "ReplacePrefixMatch", "replacePrefixMatch": "/"])]),
            ])])))
        }
        rule.append(.init("backendRefs", .list([yamlMap(["name": .string(name), "port": .int(servicePort(app))])])))
        var spec: [YAML.Entry] = [.init("parentRefs", .list(parents))]
        if let host = app.host { spec.append(.init("hostnames", .list([.string(host)]))) }
        spec.append(.init("rules", .list([.map(rule)])))
        var docs: [YAML] = [yamlMap([
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": metadata(name, app: app.name),
            "spec": .map(spec),
        ])]
        if redirect && !plainListeners.isEmpty && !tlsListeners.isEmpty {
            // Plain HTTP for this app only redirects. Gateway API v1 knows 301 and 302; berth sends 308.
            var redirectSpec: [YAML.Entry] = [.init("parentRefs", .list(plainListeners.map { yamlMap(["name": .string(Self.gatewayName), "sectionName": .string($0)]) }))]
            if let host = app.host { redirectSpec.append(.init("hostnames", .list([.string(host)]))) }
            redirectSpec.append(.init("rules", .list([yamlMap([
                "matches": .list([yamlMap(["path": yamlMap(["type": "PathPrefix", "value": .string(app.path)])])]),
                "filters": .list([yamlMap(["type": "RequestRedirect", "requestRedirect": yamlMap(["scheme": "https", "statusCode": 301])])]),
            ])])))
            docs.append(yamlMap([
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": metadata("\(name)-redirect", app: app.name),
                "spec": .map(redirectSpec),
            ]))
            warn("\(location(app)): redirect-https: Gateway API v1 redirects with 301 (berth: 308)")
        }
        return docs
    }

    mutating func gateway() throws -> [YAML] {
        guard !config.listens.isEmpty, config.apps.contains(where: \.isRouted) else { return [] }
        var listeners: [YAML] = []
        var docs: [YAML] = []
        var auto = false
        for l in config.listens {
            guard l.tls != nil else {
                listeners.append(yamlMap(["name": .string(listenerName(l)), "protocol": "HTTP", "port": .int(l.address.port)]))
                continue
            }
            if l.tls?.auto == true { auto = true }
            for c in tlsCertificates(l) {
                var entry: [YAML.Entry] = [.init("name", .string(c.listener))]
                if let h = c.hostname { entry.append(.init("hostname", .string(h))) }
                entry.append(.init("protocol", "HTTPS"))
                entry.append(.init("port", .int(l.address.port)))
                entry.append(.init("tls", yamlMap(["mode": "Terminate", "certificateRefs": .list([yamlMap(["kind": "Secret", "name": .string(c.secret)])])])))
                listeners.append(.map(entry))
                if let files = c.files {
                    docs.append(yamlMap([
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": metadata(c.secret),
                        "type": "kubernetes.io/tls",
                        "data": yamlMap([
                            "tls.crt": .string(try readFile(files.cert).base64EncodedString()),
                            "tls.key": .string(try readFile(files.key).base64EncodedString()),
                        ]),
                    ]))
                }
            }
            if l.tls?.h2 == false { warn("listen \(l.address) h2=off: Gateway listeners negotiate ALPN as the controller does") }
        }
        if auto {
            warn("tls auto: cert-manager (with its Gateway API support on) issues the certificates from the ClusterIssuer \(options.clusterIssuer), which you create with the acme settings")
        }
        let annotations: [YAML.Entry] = auto ? [.init("cert-manager.io/cluster-issuer", .string(options.clusterIssuer))] : []
        docs.insert(yamlMap([
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": metadata(Self.gatewayName, annotations: annotations),
            "spec": yamlMap(["gatewayClassName": .string(options.gatewayClass), "listeners": .list(listeners)]),
        ]), at: 0)
        return docs
    }
}

import BerthConfig
import Foundation

/// Turns a proxy.conf into the manifests a Kubernetes 1.30+ cluster with a
/// Gateway API v1 controller runs: per app a Deployment, Service, Secrets,
/// PersistentVolumeClaims and HTTPRoute (or, for `upstream` apps, a
/// selector-less Service and EndpointSlices), one Gateway from the `listen`
/// lines, and a kustomization.yaml. Every routing, health and limit
/// decision of the config is carried over; what has no equivalent is
/// reported in `Export.warnings`.
public struct KubernetesExporter {
    let config: Config
    let options: ExportOptions
    /// Reads a file the config names (certificates, secrets); injectable for tests.
    let readFile: (String) throws -> Data
    var export = Export()

    public static let gatewayName = "berth"

    public init(config: Config, options: ExportOptions, readFile: @escaping (String) throws -> Data = { try Data(contentsOf: URL(fileURLWithPath: $0)) }) {
        self.config = config
        self.options = options
        self.readFile = readFile
    }

    public mutating func run() throws -> Export {
        export = Export()
        warnGlobal()
        for app in config.apps {
            var docs: [YAML] = []
            if app.runsContainers {
                docs += try workload(app)
            } else {
                docs += upstreamService(app)
            }
            if app.isRouted { docs += route(app) }
            export.files.append(ManifestFile(name: "\(KubernetesNames.label(app.name)).yaml", documents: docs))
        }
        let gateway = try self.gateway()
        if !gateway.isEmpty { export.files.append(ManifestFile(name: "gateway.yaml", documents: gateway)) }
        var kustomization: [YAML.Entry] = [
            .init("apiVersion", "kustomize.config.k8s.io/v1beta1"),
            .init("kind", "Kustomization"),
        ]
        if let ns = options.namespace { kustomization.append(.init("namespace", .string(ns))) }
        kustomization.append(.init("resources", .list(export.files.map { .string($0.name) })))
        export.files.append(ManifestFile(name: "kustomization.yaml", documents: [.map(kustomization)]))
        return export
    }

    // MARK: - shared pieces

    func metadata(_ name: String, app: String? = nil, annotations: [YAML.Entry] = [], extraLabels: [YAML.Entry] = []) -> YAML {
        var m: [YAML.Entry] = [.init("name", .string(name))]
        if let ns = options.namespace { m.append(.init("namespace", .string(ns))) }
        var labels: [YAML.Entry] = [.init("app.kubernetes.io/managed-by", "berth")]
        if let app { labels.insert(.init("app.kubernetes.io/name", .string(KubernetesNames.label(app))), at: 0) }
        m.append(.init("labels", .map(labels + extraLabels)))
        if !annotations.isEmpty { m.append(.init("annotations", .map(annotations))) }
        return .map(m)
    }

    func selector(_ app: AppConfig) -> YAML {
        yamlMap(["app.kubernetes.io/name": .string(KubernetesNames.label(app.name))])
    }

    mutating func warn(_ what: String) { export.warnings.append(what) }

    func location(_ app: AppConfig) -> String { "\(app.location)" }

    private mutating func warnGlobal() {
        let t = config.timeouts, d = Timeouts()
        var changed: [String] = []
        if t.connect != d.connect { changed.append("connect") }
        if t.header != d.header { changed.append("header") }
        if t.idle != d.idle { changed.append("idle") }
        if t.upstream != d.upstream { changed.append("upstream") }
        if t.drain != d.drain { changed.append("drain") }
        if !changed.isEmpty {
            warn("timeouts { \(changed.joined(separator: ", ")) }: Gateway API v1 has no standard field for them (HTTPRoute timeouts are request timeouts); set them on your Gateway controller")
        }
        if config.limits.headerSize != Limits().headerSize || config.limits.bodySize != Limits().bodySize {
            warn("limits { header-size, body-size }: no Gateway API equivalent; set them on your Gateway controller")
        }
        if config.accessLog != .off { warn("access-log: the Gateway controller keeps its own access log") }
        if config.admin != nil { warn("admin: berth's admin endpoint has no Kubernetes equivalent (use the controller's metrics)") }
        for l in config.listens where l.h2c { warn("listen \(l.address) h2c: Gateway listeners speak HTTP/1.1 and h2 by ALPN; cleartext HTTP/2 depends on the controller") }
        for l in config.listens where l.tls?.minVersion != nil { warn("listen \(l.address) tls-min: no Gateway API v1 field; set the TLS policy on your controller") }
        if let acme = config.acme, acme.onDemandAsk != nil {
            warn("acme on-demand: cert-manager issues certificates for listed hostnames only")
        }
    }
}

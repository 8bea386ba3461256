import BerthConfig
import Foundation

/// Container apps: the Deployment, its Service, Secrets and volume claims.
extension KubernetesExporter {
    /// Where the image of `app` is, locally and in the cluster.
    func images(_ app: AppConfig) -> (local: String, remote: String) {
        let local = app.image ?? "berth/\(app.name):latest"
        guard let registry = options.registry else { return (local, local) }
        var last = local.split(separator: "/").last.map(String.init) ?? local
        if app.image == nil { last = "\(KubernetesNames.label(app.name)):latest" }
        if !last.contains(":") && !last.contains("@") { last += ":latest" }
        return (local, "\(registry.hasSuffix("/") ? String(registry.dropLast()) : registry)/\(last)")
    }

    mutating func workload(_ app: AppConfig) throws -> [YAML] {
        let name = KubernetesNames.label(app.name)
        if name != app.name { warn("\(location(app)): app \(app.name) is named \(name) in Kubernetes (RFC 1123 names)") }
        var docs: [YAML] = []
        let image = images(app)
        if options.registry != nil || app.image == nil { export.pushes.append(image) }
        if app.image == nil && options.registry == nil {
            warn("\(location(app)): app \(app.name) is built by berth (\(image.local)): give --registry so the cluster can pull it")
        }

        var container: [YAML.Entry] = [.init("name", .string(name)), .init("image", .string(image.remote))]
        if let command = app.command {
            // berth's `command` replaces CMD and keeps ENTRYPOINT: Kubernetes' `args`.
            container.append(.init("args", .list(command.map { .string($0) })))
        }
        if let port = app.listenPort {
            container.append(.init("ports", .list([yamlMap(["name": "app", "containerPort": .int(port), "protocol": "TCP"])])))
        }
        var env: [YAML] = app.env.map { yamlMap(["name": .string($0.key), "value": .string($0.value)]) }
        for link in app.links {
            guard let target = config.apps.first(where: { $0.name == link.app }) else { continue }
            let key = link.environmentPrefix
            env.append(yamlMap(["name": .string("\(key)_HOST"), "value": .string(KubernetesNames.label(target.name))]))
            env.append(yamlMap(["name": .string("\(key)_PORT"), "value": .string(String(target.listenPort ?? target.upstreams.first?.port ?? 80))]))
            if let p = link.port, p != target.listenPort {
                warn("\(location(app)): link \(link.app) \(p): in Kubernetes \(app.name) reaches \(link.app) at its Service's port (\(target.listenPort ?? 80)), given in \(key)_PORT")
            }
        }
        if !env.isEmpty { container.append(.init("env", .list(env))) }
        if !app.envFileVars.isEmpty {
            container.append(.init("envFrom", .list([yamlMap(["secretRef": yamlMap(["name": .string("\(name)-env")])])])))
            docs.append(secret("\(name)-env", app: app, data: app.envFileVars.map { ($0.key, Data($0.value.utf8)) }))
        }
        var resources: [YAML.Entry] = []
        if let memory = app.memory { resources.append(.init("memory", .string(Self.quantity(bytes: memory)))) }
        if let cpus = app.cpus { resources.append(.init("cpu", .string("\(Int((cpus * 1000).rounded()))m"))) }
        if !resources.isEmpty {
            // berth's limits are hard limits; requesting as much schedules the pod where they fit.
            container.append(.init("resources", yamlMap(["limits": .map(resources), "requests": .map(resources)])))
        }
        if let h = app.health, h.command == nil, h.method != "GET" {
            warn("\(location(app)): health \(h.method): Kubernetes HTTP probes always GET")
        }
        if app.listenPort != nil || app.health?.command != nil {
            let (readiness, startup) = probes(app)
            container.append(.init("readinessProbe", readiness))
            container.append(.init("startupProbe", startup))
        }
        var mounts: [YAML] = []
        var volumes: [YAML] = []
        for v in app.volumes {
            let claim = "\(name)-\(KubernetesNames.label(v.name))"
            mounts.append(yamlMap(["name": .string("vol-\(KubernetesNames.label(v.name))"), "mountPath": .string(v.target)]))
            volumes.append(yamlMap(["name": .string("vol-\(KubernetesNames.label(v.name))"), "persistentVolumeClaim": yamlMap(["claimName": .string(claim)])]))
            docs.append(claimDocument(claim, app: app))
            warn("\(location(app)): volume \(v.name): a berth volume has no size; its claim asks for 1Gi (edit \(name).yaml)")
        }
        if !app.secrets.isEmpty {
            var data: [(String, Data)] = []
            for s in app.secrets { data.append((s.name, try readFile(s.source))) }
            docs.append(secret("\(name)-secrets", app: app, data: data))
            mounts.append(yamlMap(["name": "secrets", "mountPath": "/run/secrets", "readOnly": true]))
            volumes.append(yamlMap(["name": "secrets", "secret": yamlMap(["secretName": .string("\(name)-secrets")])]))
        }
        for m in app.mounts {
            warn("\(location(app)): mount \(m.source):\(m.target): a host path ties a pod to one node; not exported (use a volume or a ConfigMap)")
        }
        if !mounts.isEmpty { container.append(.init("volumeMounts", .list(mounts))) }

        var pod: [YAML.Entry] = []
        if app.network == .host { pod.append(.init("hostNetwork", true)) }
        pod.append(.init("securityContext", yamlMap(["seccompProfile": yamlMap(["type": app.seccomp == .unconfined ? "Unconfined" : "RuntimeDefault"])])))
        pod.append(.init("containers", .list([.map(container)])))
        if !volumes.isEmpty { pod.append(.init("volumes", .list(volumes))) }

        let strategy: YAML = app.deployStrategy == .recreate
            ? yamlMap(["type": "Recreate"])
            // Blue-green: the new replicas start and pass readiness beside the old ones.
            : yamlMap(["type": "RollingUpdate", "rollingUpdate": yamlMap(["maxUnavailable": 0, "maxSurge": "100%"])])
        docs.insert(yamlMap([
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata(name, app: app.name),
            "spec": yamlMap([
                "replicas": .int(app.replicas),
                "selector": yamlMap(["matchLabels": selector(app)]),
                "strategy": strategy,
                "template": yamlMap([
                    "metadata": yamlMap(["labels": selector(app)]),
                    "spec": .map(pod),
                ]),
            ]),
        ]), at: 0)
        if let port = app.listenPort {
            var servicePort: [YAML.Entry] = [.init("name", "app"), .init("port", .int(port)), .init("targetPort", "app"), .init("protocol", "TCP")]
            if app.proto == .h2c { servicePort.append(.init("appProtocol", "kubernetes.io/h2c")) }
            docs.insert(yamlMap([
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": metadata(name, app: app.name),
                "spec": yamlMap(["selector": selector(app), "ports": .list([.map(servicePort)])]),
            ]), at: 1)
        }
        if app.skewRetry { warn("\(location(app)): skew-retry: no Kubernetes equivalent (a rolling update has no draining old version to ask)") }
        if app.balance == .leastConn { warn("\(location(app)): balance leastconn: Gateway API v1 has no balancing field; the controller's default applies") }
        return docs
    }

    /// The readiness probe (berth's health check, or its port check) and a
    /// startup probe that gives the app `timeouts { start }` to pass it.
    func probes(_ app: AppConfig) -> (YAML, YAML) {
        var action: [YAML.Entry]
        let h = app.health
        if let command = h?.command {
            action = [.init("exec", yamlMap(["command": .list(command.map { .string($0) })]))]
        } else if let h {
            action = [.init("httpGet", yamlMap(["path": .string(h.path), "port": "app"]))]
        } else {
            action = [.init("tcpSocket", yamlMap(["port": "app"]))]
        }
        let period = max(1, Int((h?.interval ?? 2).rounded(.up)))
        let timeout = max(1, Int((h?.timeout ?? 1).rounded(.up)))
        let readiness = YAML.map(action + [
            .init("periodSeconds", .int(period)), .init("timeoutSeconds", .int(timeout)),
            .init("failureThreshold", .int(h?.fall ?? 3)), .init("successThreshold", .int(h?.rise ?? 1)),
        ])
        let startupPeriod = 1
        let startup = YAML.map(action + [
            .init("periodSeconds", .int(startupPeriod)), .init("timeoutSeconds", .int(timeout)),
            .init("failureThreshold", .int(max(1, Int(config.timeouts.start.rounded(.up)) / startupPeriod))),
        ])
        return (readiness, startup)
    }

    func secret(_ name: String, app: AppConfig, data: [(String, Data)]) -> YAML {
        yamlMap([
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(name, app: app.name),
            "type": "Opaque",
            "data": .map(data.map { .init($0.0, .string($0.1.base64EncodedString())) }),
        ])
    }

    func claimDocument(_ name: String, app: AppConfig) -> YAML {
        yamlMap([
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata(name, app: app.name),
            "spec": yamlMap([
                "accessModes": .list(["ReadWriteOnce"]),
                "resources": yamlMap(["requests": yamlMap(["storage": "1Gi"])]),
            ]),
        ])
    }

    /// A byte count as a Kubernetes quantity (`256Mi`, or plain bytes).
    static func quantity(bytes: Int) -> String {
        for (unit, size) in [("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] where bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return String(bytes)
    }
}

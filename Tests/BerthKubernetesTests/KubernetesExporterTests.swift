import Testing
import Foundation
import BerthConfig
@testable import BerthKubernetes

/// `berth export kubernetes`: the manifests of the repo's proxy.conf and of
/// a richer config, every core object validated against Kubernetes 1.30's
/// OpenAPI schemas (kubernetes-validate, strict), the Gateway API objects
/// checked field by field, and what has no equivalent reported.
@Suite struct KubernetesExporterTests {
    static let rich = """
        listen :80
        listen :443 tls cert=CERT key=KEY
        redirect-https on
        app web {
            host shop.example
            path /shop
            build apps/web
            port 3000
            replicas 2
            memory 256M
            cpus 0.5
            env MODE=prod
            env-file web.env
            secret api-key api-key.txt
            health GET /healthz interval 5s timeout 2s fall 4 rise 2
            link db
            command bundle exec puma
            mount static:/static ro
        }
        app db {
            image postgres:16
            port 5432
            volume pgdata:/var/lib/postgresql/data
        }
        app legacy {
            path /legacy
            upstream 10.0.0.5:8080 10.0.0.6:8080 10.0.0.7:9090 backend.internal:80
            strip-prefix off
        }
        app grpc {
            path /t.T
            upstream h2c://10.0.0.9:50051
        }
        app jobs {
            build apps/jobs
            seccomp unconfined
        }
        """

    func fixture() throws -> (Config, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-k8s-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/static", withIntermediateDirectories: true)
        try "DB_PASSWORD=s3cret\n".write(toFile: dir + "/web.env", atomically: true, encoding: .utf8)
        try "key-123\n".write(toFile: dir + "/api-key.txt", atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".write(toFile: dir + "/c.pem", atomically: true, encoding: .utf8)
        try "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n".write(toFile: dir + "/k.pem", atomically: true, encoding: .utf8)
        let text = Self.rich.replacingOccurrences(of: "CERT", with: dir + "/c.pem").replacingOccurrences(of: "KEY", with: dir + "/k.pem")
        return (try Config.parse(text, file: dir + "/proxy.conf"), dir)
    }

    func write(_ export: Export) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-k8s-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in export.files { try f.text.write(toFile: dir + "/" + f.name, atomically: true, encoding: .utf8) }
        return dir
    }

    /// kubernetes-validate --strict at Kubernetes 1.30 on every file: core
    /// objects must validate; Gateway API kinds (CRDs) have no schema there.
    func validate(_ dir: String, _ files: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["kubernetes-validate", "-k", "1.30.0", "--strict"] + files.map { dir + "/" + $0 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func documents(_ export: Export, kind: String) -> [YAML] {
        export.files.flatMap(\.documents).filter { $0["kind"] == .string(kind) }
    }

    @Test func theRichConfigValidatesAndKeepsItsDecisions() throws {
        let (config, _) = try fixture()
        var exporter = KubernetesExporter(config: config, options: ExportOptions(registry: "registry.example:5000/team", namespace: "shop"))
        let export = try exporter.run()
        #expect(export.files.map(\.name) == ["web.yaml", "db.yaml", "legacy.yaml", "grpc.yaml", "jobs.yaml", "gateway.yaml", "kustomization.yaml"])
        let dir = try write(export)
        let (status, out) = try validate(dir, export.files.map(\.name))
        #expect(status == 0, "\(out)")
        #expect(!out.contains("ERROR"), "\(out)")
        // Every core kind the export wrote was validated (not skipped as unknown).
        for kind in ["Deployment", "Service", "Secret", "PersistentVolumeClaim", "EndpointSlice", "Kustomization"] where kind != "Kustomization" {
            #expect(!out.contains("kind \(kind) "), "\(kind) was not validated: \(out)")
        }

        let web = try #require(documents(export, kind: "Deployment").first { $0["metadata"]?["name"] == "web" })
        let spec = try #require(web["spec"])
        #expect(spec["replicas"] == 2)
        #expect(spec["strategy"] == yamlMap(["type": "RollingUpdate", "rollingUpdate": yamlMap(["maxUnavailable": 0, "maxSurge": "100%"])]))
        guard case .list(let containers)? = spec["template"]?["spec"]?["containers"], let c = containers.first else {
            Issue.record("no container")
            return
        }
        #expect(c["image"] == "registry.example:5000/team/web:latest")
        #expect(c["args"] == .list(["bundle", "exec", "puma"]))
        #expect(c["resources"]?["limits"] == yamlMap(["memory": "256Mi", "cpu": "500m"]))
        #expect(c["readinessProbe"] == yamlMap(["httpGet": yamlMap(["path": "/healthz", "port": "app"]), "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 4, "successThreshold": 2]))
        #expect(c["startupProbe"]?["failureThreshold"] == 30, "timeouts { start } (30 s) at one probe a second")
        #expect(c["env"] == .list([yamlMap(["name": "MODE", "value": "prod"]), yamlMap(["name": "DB_HOST", "value": "db"]), yamlMap(["name": "DB_PORT", "value": "5432"])]))
        let db = try #require(documents(export, kind: "Deployment").first { $0["metadata"]?["name"] == "db" })
        #expect(db["spec"]?["strategy"] == yamlMap(["type": "Recreate"]), "a service with a volume is recreated, never two on its data")
        #expect(documents(export, kind: "PersistentVolumeClaim").map { $0["metadata"]?["name"] } == ["db-pgdata"])
        // Secrets hold base64, never the plain value.
        let texts = export.files.map(\.text).joined()
        #expect(!texts.contains("s3cret") && texts.contains(Data("s3cret".utf8).base64EncodedString()))
        #expect(!texts.contains("key-123"))

        // The upstream app: a selector-less Service and one EndpointSlice per port; a name is reported.
        let slices = documents(export, kind: "EndpointSlice")
        #expect(slices.map { $0["metadata"]?["name"] } == ["legacy-8080", "legacy-9090", "grpc-50051"])
        #expect(slices.first?["endpoints"] == .list([yamlMap(["addresses": .list(["10.0.0.5"])]), yamlMap(["addresses": .list(["10.0.0.6"])])]))
        #expect(slices.first?["metadata"]?["labels"]?["kubernetes.io/service-name"] == "legacy")
        let grpcService = try #require(documents(export, kind: "Service").first { $0["metadata"]?["name"] == "grpc" })
        #expect(grpcService["spec"]?["ports"] == .list([yamlMap(["name": "app", "port": 50051, "protocol": "TCP", "appProtocol": "kubernetes.io/h2c"])]))

        // Gateway API objects, field by field.
        let routes = documents(export, kind: "HTTPRoute")
        #expect(routes.map { $0["metadata"]?["name"] } == ["web", "web-redirect", "legacy", "legacy-redirect", "grpc", "grpc-redirect"])
        let webRoute = routes[0]
        #expect(webRoute["spec"] == yamlMap([
            "parentRefs": .list([yamlMap(["name": "berth", "sectionName": "https-443"])]),
            "hostnames": .list(["shop.example"]),
            "rules": .list([yamlMap([
                "matches": .list([yamlMap(["path": yamlMap(["type": "PathPrefix", "value": "/shop"])])]),
                "filters": .list([yamlMap(["type": "URLRewrite", "urlRewrite": yamlMap(["path": yamlMap(["type": "ReplacePrefixMatch", "replacePrefixMatch": "/"])])])]),
                "backendRefs": .list([yamlMap(["name": "web", "port": 3000])]),
            ])]),
        ]))
        #expect(routes[1]["spec"]?["rules"] == .list([yamlMap([
            "matches": .list([yamlMap(["path": yamlMap(["type": "PathPrefix", "value": "/shop"])])]),
            "filters": .list([yamlMap(["type": "RequestRedirect", "requestRedirect": yamlMap(["scheme": "https", "statusCode": 301])])]),
        ])]))
        #expect(routes[2]["spec"]?["rules"] == .list([yamlMap([
            "matches": .list([yamlMap(["path": yamlMap(["type": "PathPrefix", "value": "/legacy"])])]),
            "backendRefs": .list([yamlMap(["name": "legacy", "port": 8080])]),
        ])]), "strip-prefix off: no rewrite")
        let gateway = try #require(documents(export, kind: "Gateway").first)
        #expect(gateway["spec"] == yamlMap([
            "gatewayClassName": "default",
            "listeners": .list([
                yamlMap(["name": "http-80", "protocol": "HTTP", "port": 80]),
                yamlMap(["name": "https-443", "protocol": "HTTPS", "port": 443,
                         "tls": yamlMap(["mode": "Terminate", "certificateRefs": .list([yamlMap(["kind": "Secret", "name": "tls-443"])])])]),
            ]),
        ]))
        #expect(documents(export, kind: "Secret").contains { $0["type"] == "kubernetes.io/tls" && $0["metadata"]?["name"] == "tls-443" })
        #expect(export.files.last?.documents.first?["namespace"] == "shop")

        // Nothing dropped silently.
        let warnings = export.warnings.joined(separator: "\n")
        for expected in ["/static:/static: a host path", "backend.internal is not exported", "volume pgdata", "301 (berth: 308)"] {
            #expect(warnings.contains(expected), "\(expected) missing from:\n\(warnings)")
        }
        // Pushes: the built apps and the pulled image, to the registry.
        #expect(export.pushes.map(\.remote) == ["registry.example:5000/team/web:latest", "registry.example:5000/team/postgres:16", "registry.example:5000/team/jobs:latest"])
    }

    /// The Gateway API objects as text, against the files in Golden/ (no CRD
    /// schema is to be had offline). `BERTH_UPDATE_GOLDEN=1` rewrites them.
    @Test func gatewayAPIObjectsMatchTheGoldenFiles() throws {
        let (config, _) = try fixture()
        var exporter = KubernetesExporter(config: config, options: ExportOptions(registry: "registry.example:5000/team", namespace: "shop"))
        let export = try exporter.run()
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Golden"
        var checked = 0
        for kind in ["Gateway", "HTTPRoute"] {
            let text = documents(export, kind: kind).map(\.text).joined(separator: "---\n")
            let path = "\(golden)/\(kind).yaml"
            if ProcessInfo.processInfo.environment["BERTH_UPDATE_GOLDEN"] == "1" {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
            let want = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == want, "\(kind) differs from \(path):\n\(text)")
            checked += 1
        }
        #expect(checked == 2)
    }

    @Test func theRepositoryDemoConfigValidates() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let config = try Config.load(path: repo + "/proxy.conf")
        var exporter = KubernetesExporter(config: config, options: ExportOptions(registry: "r.example/berth"))
        let export = try exporter.run()
        let dir = try write(export)
        let (status, out) = try validate(dir, export.files.map(\.name))
        #expect(status == 0, "\(out)")
        #expect(export.files.contains { $0.name == "gateway.yaml" })
        // The demo's plain upstream is on loopback: reported, not an endpoint (the API refuses those).
        #expect(export.warnings.contains { $0.contains("upstream 127.0.0.1:9000: a loopback address") })
        #expect(!export.files.map(\.text).joined().contains("127.0.0.1"))
    }

    @Test func tlsAutoAsksCertManager() throws {
        let config = try Config.parse("listen :443 tls auto\napp a {\n host a.example\n upstream 10.1.1.1:80\n}\n", file: "auto.conf")
        var exporter = KubernetesExporter(config: config, options: ExportOptions())
        let export = try exporter.run()
        let gateway = try #require(documents(export, kind: "Gateway").first)
        #expect(gateway["metadata"]?["annotations"] == yamlMap(["cert-manager.io/cluster-issuer": "letsencrypt"]))
        #expect(gateway["spec"]?["listeners"] == .list([yamlMap([
            "name": "https-443-a-example", "hostname": "a.example", "protocol": "HTTPS", "port": 443,
            "tls": yamlMap(["mode": "Terminate", "certificateRefs": .list([yamlMap(["kind": "Secret", "name": "tls-a-example"])])]),
        ])]))
    }

    @Test func yamlTextIsQuotedAndNested() {
        let doc = yamlMap(["a": "x: \"y\"\n", "n": 3, "l": .list([yamlMap(["k": true, "m": .list(["z"])])]), "e": .map([]), "1st": .list([])])
        #expect(doc.text == """
            a: "x: \\"y\\"\\n"
            n: 3
            l:
            - k: true
              m:
              - "z"
            e: {}
            "1st": []

            """)
    }
}

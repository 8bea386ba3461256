/// What `berth export kubernetes` is asked for beyond the config.
public struct ExportOptions: Sendable {
    /// `--registry HOST/PREFIX`: where `berth push` puts each app's image.
    public var registry: String?
    /// `--namespace N`: on every object and in kustomization.yaml.
    public var namespace: String?
    /// The Gateway's `gatewayClassName` (the cluster's Gateway controller).
    public var gatewayClass = "default"
    /// The cert-manager issuer `tls auto` listeners name.
    public var clusterIssuer = "letsencrypt"

    public init(registry: String? = nil, namespace: String? = nil) {
        self.registry = registry
        self.namespace = namespace
    }
}

/// One file of the export: its name in the output directory and its
/// documents (joined by `---`).
public struct ManifestFile: Sendable {
    public var name: String
    public var documents: [YAML]

    public var text: String { documents.map(\.text).joined(separator: "---\n") }
}

/// The result of an export: the files to write, what has no Kubernetes
/// equivalent (never dropped silently), and the image pushes the
/// manifests expect.
public struct Export: Sendable {
    public var files: [ManifestFile] = []
    public var warnings: [String] = []
    /// (local image, pushed reference) for every image a Deployment names.
    public var pushes: [(local: String, remote: String)] = []
}

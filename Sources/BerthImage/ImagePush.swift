import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth push NAME [TARGET]`: the mirror of `ImagePull` (OCI distribution
/// spec). Each layer directory becomes a reproducible gzip tar
/// (`LayerArchive`); blobs the repository has (HEAD) are skipped, others
/// uploaded (POST, then PUT with the digest); then the config (the stored
/// one with the tars' diff_ids) and an OCI image manifest. The same image
/// pushed twice gives the same digests and uploads nothing the second time.
/// Nothing is recorded locally, so a refused upload leaves nothing half-written.
public struct ImagePush {
    let store: ImageStore
    let insecure: Set<String>
    let output: (String) -> Void
    /// Blobs above this go up in PATCHes of this size.
    let chunkSize: Int

    public init(store: ImageStore, insecure: Set<String> = [], chunkSize: Int = 32 << 20, output: @escaping (String) -> Void) {
        self.store = store
        self.insecure = insecure
        self.chunkSize = chunkSize
        self.output = output
    }

    public struct Result: Sendable {
        public var manifestDigest: String
        public var uploaded: Int
        public var skipped: Int
    }

    static let manifestType = "application/vnd.oci.image.manifest.v1+json"

    /// Pushes stored image `name` to `target` (default: `name` itself).
    public func push(_ name: String, to target: String? = nil) throws(StoreError) -> Result {
        let start = Date()
        guard let (_, image) = try store.resolve(name) else { throw StoreError("no such image: \(name)") }
        let ref = try ImageReference(parsing: target ?? name)
        // An image named after another repository of the same registry may
        // share its blobs: offer the registry a cross-repository mount.
        let source = try? ImageReference(parsing: name)
        let mountFrom = source.flatMap { $0.domain == ref.domain && $0.repository != ref.repository ? $0.repository : nil }
        guard ref.digest == nil else { throw StoreError("\(ref): push to a tag, not a digest") }
        let client = RegistryClient(ref, insecure: insecure.contains(ref.domain))
        output("pushing \(ImageStore.normalize(name)) to \(ref)")
        let staging = try store.stagingDirectory("push")
        defer { ImageStore.removeTree(staging) }
        var uploaded = 0, skipped = 0
        var layers: [[String: Any]] = []
        var diffIDs: [String] = []
        for (i, layer) in image.layers.enumerated() {
            let label = "layer \(i + 1)/\(image.layers.count)"
            let blob = try LayerArchive.write(store.layerPath(layer), to: staging + "/layer-\(i).tar.gz")
            diffIDs.append(blob.diffID)
            layers.append(["mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob.digest, "size": blob.size])
            if try client.hasBlob(blob.digest) {
                output("\(label) \(blob.digest.prefix(19)): already in the registry")
                skipped += 1
                continue
            }
            let t = Date()
            switch try client.upload(file: blob.path, size: blob.size, digest: blob.digest, mountFrom: mountFrom, chunkSize: chunkSize) {
            case .mounted:
                skipped += 1
                output("\(label) \(blob.digest.prefix(19)): mounted from \(mountFrom ?? "")")
            case .monolithic:
                uploaded += 1
                output("\(label) \(blob.digest.prefix(19)): \(ImagePull.megabytes(blob.size)) uploaded in \(String(format: "%.2fs", Date().timeIntervalSince(t)))")
            case .chunked(let n):
                uploaded += 1
                output("\(label) \(blob.digest.prefix(19)): \(ImagePull.megabytes(blob.size)) uploaded in \(n) parts in \(String(format: "%.2fs", Date().timeIntervalSince(t)))")
            }
        }
        var config = image.config
        config.rootfs = ImageConfig.RootFS(type: "layers", diff_ids: diffIDs)
        let configData = config.json()
        let configDigest = "sha256:" + RegistryClient.sha256(configData)
        if try client.hasBlob(configDigest) {
            skipped += 1
        } else {
            let path = staging + "/config.json"
            guard FileManager.default.createFile(atPath: path, contents: configData) else { throw StoreError("cannot write \(path)") }
            if case .mounted = try client.upload(file: path, size: configData.count, digest: configDigest, mountFrom: mountFrom, chunkSize: chunkSize) {
                skipped += 1
            } else {
                uploaded += 1
            }
        }
        let manifest: [String: Any] = [
            "schemaVersion": 2,
            "mediaType": Self.manifestType,
            "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configData.count],
            "layers": layers,
        ]
        let manifestData: Data
        do {
            manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw StoreError("cannot encode the manifest: \(error)")
        }
        let digest = try client.putManifest(manifestData, mediaType: Self.manifestType, tag: ref.tag ?? "latest")
        output(String(format: "pushed %@ (%@) in %.2fs: %d blobs uploaded, %d already there", ref.description, String(digest.prefix(19)),
                      Date().timeIntervalSince(start), uploaded, skipped))
        return Result(manifestDigest: digest, uploaded: uploaded, skipped: skipped)
    }
}

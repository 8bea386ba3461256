import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth pull NAME` and FROM of an image the store lacks: the manifest
/// (linux/amd64 picked out of an index), the config, then each layer —
/// skipped when already stored, else downloaded (resuming a partial
/// download, digest checked), unpacked and stored — and the image tagged
/// with the name as written.
public struct ImagePull {
    let store: ImageStore
    /// Registries spoken to over plain HTTP (`registry HOST:PORT insecure`).
    let insecure: Set<String>
    let output: (String) -> Void

    public init(store: ImageStore, insecure: Set<String> = [], output: @escaping (String) -> Void) {
        self.store = store
        self.insecure = insecure
        self.output = output
    }

    static let indexTypes: Set<String> = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]

    /// Pulls `name`; returns the stored image id. With `ifMissing` (FROM of
    /// an image the store lacked), a pull another build finished while this
    /// one waited for the lock is used as it is.
    public func pull(_ name: String, ifMissing: Bool = false) throws(StoreError) -> String {
        let start = Date()
        let ref = try ImageReference(parsing: name)
        // One pull at a time per store (parallel builds share blobs and layers).
        let fd = open(store.root + "/pull.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot open the pull lock") }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        if ifMissing, let (id, _) = try store.resolve(name) {
            output("\(ref) was pulled meanwhile: using sha256:\(id.prefix(12))")
            return id
        }
        let client = RegistryClient(ref, insecure: insecure.contains(ref.domain))
        output("pulling \(ref) from \(client.base.components(separatedBy: "/v2/")[0])")
        var (data, type) = try client.manifest(ref.manifestReference)
        var json = try Self.object(data, "manifest")
        if Self.indexTypes.contains(type) || json["manifests"] != nil {
            let entries = json["manifests"] as? [[String: Any]] ?? []
            guard let pick = entries.first(where: { e in
                let p = e["platform"] as? [String: Any]
                return p?["os"] as? String == "linux" && p?["architecture"] as? String == "amd64"
            }), let digest = pick["digest"] as? String else {
                let platforms = entries.compactMap { ($0["platform"] as? [String: Any]).map { "\($0["os"] ?? "?")/\($0["architecture"] ?? "?")" } }
                throw StoreError("\(ref): no linux/amd64 image in its index (has \(platforms.joined(separator: ", ")))")
            }
            output("index of \(entries.count) platforms: linux/amd64 is \(digest.prefix(19))")
            (data, type) = try client.manifest(digest)
            json = try Self.object(data, "manifest")
        }
        guard let configDigest = (json["config"] as? [String: Any])?["digest"] as? String,
              let layers = json["layers"] as? [[String: Any]] else {
            throw StoreError("\(ref): unsupported manifest (\(type.isEmpty ? "no media type" : type))")
        }
        let configData = try client.smallBlob(configDigest)
        var config: ImageConfig
        do {
            config = try JSONDecoder().decode(ImageConfig.self, from: configData)
        } catch {
            throw StoreError("\(ref): cannot read its image config: \(error)")
        }
        guard config.os == "linux" && config.architecture == "amd64" else {
            throw StoreError("\(ref): image is \(config.os)/\(config.architecture), not linux/amd64")
        }
        var stored: [(digest: String, size: Int)] = []
        for (i, layer) in layers.enumerated() {
            guard let digest = layer["digest"] as? String, digest.hasPrefix("sha256:") else { throw StoreError("\(ref): layer \(i + 1) has no sha256 digest") }
            stored.append(try fetchLayer(digest, size: layer["size"] as? Int ?? 0, label: "layer \(i + 1)/\(layers.count)", client: client))
        }
        config.rootfs = ImageConfig.RootFS()
        let id = try store.commitImage(config: config, layers: stored)
        try store.tag(name, id)
        output(String(format: "pulled %@ as %@ (sha256:%@) in %.2fs", ref.description, ImageStore.normalize(name), String(id.prefix(12)), Date().timeIntervalSince(start)))
        return id
    }

    /// One layer into the store, unless a pull already stored it.
    private func fetchLayer(_ digest: String, size: Int, label: String, client: RegistryClient) throws(StoreError) -> (digest: String, size: Int) {
        let hex = String(digest.dropFirst(7))
        let mapping = store.root + "/cache/blob-" + hex
        if let known = try? String(contentsOfFile: mapping, encoding: .utf8),
           let layerDigest = known.split(separator: " ").first.map(String.init),
           FileManager.default.fileExists(atPath: store.layerPath(layerDigest)) {
            output("\(label) \(digest.prefix(19)): already present")
            return (layerDigest, Int(known.split(separator: " ").last ?? "") ?? 0)
        }
        let blob = store.root + "/tmp/blob-" + hex
        let start = Date()
        var lastReport = start
        let total = size
        let out = output
        try client.download(digest, to: blob) { bytes in
            let now = Date()
            if now.timeIntervalSince(lastReport) >= 1 {
                lastReport = now
                out("\(label) \(digest.prefix(19)): \(Self.megabytes(bytes))/\(Self.megabytes(total)) \(Self.rate(bytes, now.timeIntervalSince(start)))")
            }
        }
        defer { unlink(blob) }
        let blobSize = (try? FileManager.default.attributesOfItem(atPath: blob)[.size] as? Int) ?? total
        output("\(label) \(digest.prefix(19)): \(Self.megabytes(blobSize)) in \(String(format: "%.2fs", Date().timeIntervalSince(start))) (\(Self.rate(blobSize, Date().timeIntervalSince(start)))), verified")
        let staging = try store.stagingDirectory("pull")
        let root = staging + "/layer"
        mkdir(root, 0o755)
        do {
            try LayerExtractor.extract(blob, into: root)
        } catch {
            ImageStore.removeTree(staging)
            throw StoreError("\(client.reference): \(label) \(digest.prefix(19)): \(error)")
        }
        let (layerDigest, layerSize) = try store.commitLayer(root)
        ImageStore.removeTree(staging)
        mkdir(store.root + "/cache", 0o755)
        try? "\(layerDigest) \(layerSize)".write(toFile: mapping, atomically: true, encoding: .utf8)
        return (layerDigest, layerSize)
    }

    static func object(_ data: Data, _ what: String) throws(StoreError) -> [String: Any] {
        guard let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw StoreError("the \(what) is not a JSON object") }
        return j
    }

    static func megabytes(_ n: Int) -> String { String(format: "%.1f MB", Double(n) / 1e6) }
    static func rate(_ n: Int, _ s: Double) -> String { String(format: "%.1f MB/s", Double(n) / 1e6 / max(s, 0.001)) }
}

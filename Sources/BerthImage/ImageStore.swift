import BerthRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The content-addressed image store under the state dir:
///
///     layers/<digest>/     one directory per layer (overlayfs stacks them)
///     images/<id>.json     an image: its config and ordered layer digests
///     tags.json            name:tag → image id
///     tmp/                 staging; everything is built here, then renamed in
///     containers/<id>/     a container's upper dir, root mount and bundle
///
/// Writers take `lock` (flock), so two builds at once can't lose a tag; a
/// failed step leaves only a staging directory, removed on the way out.
public final class ImageStore: @unchecked Sendable {
    public let root: String

    /// An image as stored: its id, config and layers.
    public struct Image: Codable, Sendable {
        public var config: ImageConfig
        public var layers: [String]
        /// Bytes per layer, in `layers` order.
        public var layerSizes: [Int]?
        public var size: Int
        public var created: String
    }

    public init(root: String) throws(StoreError) {
        self.root = root
        for d in ["", "/layers", "/images", "/tmp", "/containers"] {
            if mkdir(root + d, 0o755) != 0 && errno != EEXIST {
                throw StoreError("cannot create \(root + d): \(String(cString: strerror(errno)))")
            }
        }
    }

    // MARK: - references

    /// `busybox` → `busybox:latest`; `name:tag` and `host:5000/name:tag` kept.
    /// The key a reference is tagged under: Docker's familiar form, so
    /// `docker.io/library/debian:bookworm`, `library/debian:bookworm` and
    /// `debian:bookworm` are one image (`user/app`, `localhost:5000/app:1`
    /// keep their names), with `:latest` when no tag is given.
    public static func normalize(_ ref: String) -> String {
        guard let r = try? ImageReference(parsing: ref) else { return legacyKey(ref) }
        return r.familiar
    }

    /// The key berth used before references were normalised (tags written
    /// then are still found).
    static func legacyKey(_ ref: String) -> String {
        let lastSlash = ref.lastIndex(of: "/").map { ref.index(after: $0) } ?? ref.startIndex
        return ref[lastSlash...].contains(":") ? ref : ref + ":latest"
    }

    /// name:tag → image id. No file yet is no tags; a file that cannot be
    /// read or decoded throws naming it (and is never rewritten from that).
    public func tags() throws(StoreError) -> [String: String] {
        let path = root + "/tags.json"
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError("\(path): cannot read it (\(String(cString: strerror(errno)))); fix or remove it, nothing was changed")
        }
        do {
            return try JSONDecoder().decode([String: String].self, from: data)
        } catch {
            throw StoreError("\(path): not a tag list (\(Self.decodingProblem(error))); fix or remove it, nothing was changed")
        }
    }

    /// Throws when the store's tag list is unreadable or corrupt, so a
    /// command that will tag or look up images refuses before it starts.
    public func checkReadable() throws(StoreError) {
        _ = try tags()  // reading and decoding it is the check
    }

    /// Where and why JSON did not decode, in a few words.
    static func decodingProblem(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        switch e {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? c.debugDescription
        @unknown default:
            return "\(e)"
        }
    }

    /// The image a name:tag or an id (or a unique id prefix) refers to.
    public func resolve(_ ref: String) throws(StoreError) -> (id: String, image: Image)? {
        let all = try tags()
        let id = all[Self.normalize(ref)] ?? all[Self.legacyKey(ref)] ?? imageIDs().first { $0.hasPrefix(ref.replacingOccurrences(of: "sha256:", with: "")) && ref.count >= 6 }
        guard let id, let image = image(id) else { return nil }
        return (id, image)
    }

    public func image(_ id: String) -> Image? {
        guard let data = FileManager.default.contents(atPath: "\(root)/images/\(id).json") else { return nil }
        return try? JSONDecoder().decode(Image.self, from: data)
    }

    public func imageIDs() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/images")) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
    }

    public func layerPath(_ digest: String) -> String { "\(root)/layers/\(digest)" }

    // MARK: - writing

    /// A fresh staging directory under tmp/.
    public func stagingDirectory(_ prefix: String) throws(StoreError) -> String {
        var template = Array("\(root)/tmp/\(prefix)-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw StoreError("cannot create a staging directory: \(String(cString: strerror(errno)))") }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Moves a finished layer directory into place under its digest.
    public func commitLayer(_ staged: String) throws(StoreError) -> (digest: String, size: Int) {
        let r = try LayerDigest.compute(staged)
        let dest = layerPath(r.digest)
        if rename(staged, dest) != 0 {
            // Already stored (same content): the staged copy is not needed.
            guard errno == EEXIST || errno == ENOTEMPTY else { throw StoreError("cannot store layer: \(String(cString: strerror(errno)))") }
            Self.removeTree(staged)
        }
        return (r.digest, r.size)
    }

    /// Stores an image and returns its id (SHA-256 of its JSON).
    public func commitImage(config: ImageConfig, layers: [(digest: String, size: Int)]) throws(StoreError) -> String {
        var config = config
        config.rootfs.diff_ids = layers.map { "sha256:" + $0.digest }
        let created = config.created ?? Self.timestamp()
        let image = Image(config: config, layers: layers.map(\.digest), layerSizes: layers.map(\.size),
                          size: layers.reduce(0) { $0 + $1.size }, created: created)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        guard let data = try? e.encode(image) else { throw StoreError("cannot encode image") }
        let id = SHA256.hex(String(decoding: data, as: UTF8.self))
        try Self.writeAtomically(data, to: "\(root)/images/\(id).json")
        return id
    }

    public func tag(_ ref: String, _ id: String) throws(StoreError) {
        try withLock { () throws(StoreError) in
            var t = try tags()
            t[Self.normalize(ref)] = id
            try Self.writeAtomically(try Self.encode(t), to: root + "/tags.json")
        }
    }

    /// Removes a tag; the image goes too when no other tag names it.
    public func remove(_ ref: String) throws(StoreError) -> String {
        try withLock { () throws(StoreError) -> String in
            var t = try tags()
            var found = t.removeValue(forKey: Self.normalize(ref)) ?? t.removeValue(forKey: Self.legacyKey(ref))
            if found == nil { found = try resolve(ref)?.id }
            guard let id = found else {
                throw StoreError("no such image: \(ref)")
            }
            t = t.filter { $0.value != id || (Self.normalize(ref) != $0.key && Self.legacyKey(ref) != $0.key) }
            let stillTagged = t.values.contains(id)
            try Self.writeAtomically(try Self.encode(t), to: root + "/tags.json")
            if !stillTagged { unlink("\(root)/images/\(id).json") }
            return id
        }
    }

    /// Deletes layers no image uses (cached steps' layers included), leftovers
    /// in tmp/ and cache entries left without their layer; returns bytes freed.
    public func prune() throws(StoreError) -> Int {
        try withLock { () throws(StoreError) -> Int in
            var used = Set<String>()
            for id in imageIDs() { image(id)?.layers.forEach { used.insert($0) } }
            var freed = 0
            let layers = (try? FileManager.default.contentsOfDirectory(atPath: root + "/layers")) ?? []
            for l in layers where !used.contains(l) {
                freed += (try? LayerDigest.compute(layerPath(l)).size) ?? 0
                Self.removeTree(layerPath(l))
            }
            for t in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] {
                Self.removeTree("\(root)/tmp/\(t)")
            }
            // Cache entries whose layer is gone can never hit again.
            for c in (try? FileManager.default.contentsOfDirectory(atPath: root + "/cache")) ?? [] {
                guard let data = FileManager.default.contents(atPath: "\(root)/cache/\(c)"),
                      let e = try? JSONDecoder().decode(BuildCache.Entry.self, from: data) else { continue }
                if !FileManager.default.fileExists(atPath: layerPath(e.layer)) { unlink("\(root)/cache/\(c)") }
            }
            return freed
        }
    }

    /// Deletes the RUN --mount=type=cache directories no build is using
    /// (`berth prune --cache`); returns the bytes freed.
    public func pruneCacheMounts() throws(StoreError) -> Int {
        let dir = root + "/cache-mounts"
        guard FileManager.default.fileExists(atPath: dir) else { return 0 }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch { throw StoreError("cannot list \(dir): \(error)") }
        var freed = 0
        for name in names where !name.hasSuffix(".lock") {
            let fd = open("\(dir)/\(name).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw StoreError("cannot open \(dir)/\(name).lock: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }  // a build has it mounted
            freed += (try? LayerDigest.compute("\(dir)/\(name)").size) ?? 0
            // The lock file stays: a build waiting on it must lock the same file a new one would.
            Self.removeTree("\(dir)/\(name)")
        }
        return freed
    }

    // MARK: - import

    /// A rootfs tarball becomes a one-layer image tagged `ref`.
    public func importTarball(_ tarball: String, as ref: String) throws(StoreError) -> String {
        let staged = try stagingDirectory("import")
        let status = Self.run(["tar", "--numeric-owner", "-xpf", tarball, "-C", staged])
        guard status == 0 else {
            Self.removeTree(staged)
            throw StoreError("cannot extract \(tarball) (tar exited \(status))")
        }
        let layer = try commitLayer(staged)
        var config = ImageConfig()
        config.created = Self.timestamp()
        config.config.Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        config.history = [.init(created: config.created, created_by: "berth image import \(tarball)", empty_layer: nil)]
        let id = try commitImage(config: config, layers: [layer])
        try tag(ref, id)
        return id
    }

    // MARK: - helpers

    private func withLock<R>(_ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        let fd = open(root + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot open the store lock") }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        return try body()
    }

    static func encode(_ t: [String: String]) throws(StoreError) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let d = try? e.encode(t) else { throw StoreError("cannot encode tags") }
        return d
    }

    static func writeAtomically(_ data: Data, to path: String) throws(StoreError) {
        let tmp = path + ".tmp.\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data), rename(tmp, path) == 0 else {
            throw StoreError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func removeTree(_ path: String) {
        _ = run(["rm", "-rf", "--one-file-system", path])
    }

    static func run(_ args: [String]) -> Int32 { QuietCommand.run(args) }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}

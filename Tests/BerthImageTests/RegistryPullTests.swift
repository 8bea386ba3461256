import Testing
import Foundation
@testable import BerthImage
import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

/// A real registry on 127.0.0.1 (Debian's docker-registry, the CNCF
/// distribution registry) with images pushed by skopeo from an OCI layout the
/// test writes: a busybox layer plus one that deletes a file and replaces a
/// directory, a multi-arch index, and a layer with a `../` path.
final class LocalRegistry: @unchecked Sendable {
    static let shared = try! LocalRegistry()

    let port: Int
    let storage: String
    /// The layer digest of `test/bb:corrupt` (a blob no other image shares).
    let corruptLayer: String
    private let process = Process()
    private let lifeline = Pipe()
    private let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-registry-\(UUID().uuidString)").path
        storage = dir + "/storage"
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        port = freePort()
        try """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(storage)
            http:
              addr: 127.0.0.1:\(port)
            """.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
        // Through a shell that waits on our pipe: when this test process ends
        // (the shared registry is never deinitialised) the pipe closes and the
        // registry is killed instead of outliving the tests.
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "docker-registry serve \(dir)/config.yml & r=$!; read _; kill $r"]
        process.standardInput = lifeline
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var up = false
        for _ in 0..<100 where !up {
            up = (try? shellOut("curl -sf http://127.0.0.1:\(port)/v2/").0) == 0
            if !up { usleep(50_000) }
        }
        guard up else { throw StoreError("docker-registry did not start") }
        let (status, out) = try shellOut("python3 \(fixtures)/make_oci.py \(dir)/oci /bin/busybox")
        guard status == 0 else { throw StoreError("make_oci.py failed: \(out)") }
        let digests = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/oci/digests.json"))) as? [String: String]
        corruptLayer = digests?["corrupt_layer"] ?? ""
        for tag in ["single", "multi", "evil", "corrupt", "trick"] {
            let (s, o) = try shellOut("skopeo copy --all --dest-tls-verify=false oci:\(dir)/oci:\(tag) docker://127.0.0.1:\(port)/test/bb:\(tag) 2>&1")
            guard s == 0 else { throw StoreError("skopeo copy \(tag) failed: \(o)") }
        }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
    }

    var name: String { "127.0.0.1:\(port)" }
}

func shellOut(_ command: String) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

func freePort() -> Int { LoopbackPort.free() }

@Suite(.serialized) struct RegistryPullTests {
    func freshStore() throws -> ImageStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-pull-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try ImageStore(root: dir)
    }

    @Test func pullsLayersWhiteoutsAndAnIndex() throws {
        let reg = LocalRegistry.shared
        let store = try freshStore()
        var lines: [String] = []
        let pull = ImagePull(store: store, insecure: [reg.name]) { lines.append($0) }
        let id = try pull.pull("\(reg.name)/test/bb:single")
        let image = try #require(store.image(id))
        #expect(image.layers.count == 2)
        #expect(image.config.config.Env?.contains("GREETING=from-registry") == true)
        #expect(lines.filter { $0.contains("verified") }.count == 2)
        let base = store.layerPath(image.layers[0]), top = store.layerPath(image.layers[1])
        #expect(FileManager.default.isExecutableFile(atPath: base + "/bin/busybox"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: base + "/bin/sh")) == "busybox")
        var a = stat(), b = stat()
        #expect(stat(base + "/etc/hello", &a) == 0 && stat(base + "/etc/hello-link", &b) == 0 && a.st_ino == b.st_ino)  // hardlink kept
        // `.wh.hello` became an overlay whiteout; `data/.wh..wh..opq` an opaque directory.
        var w = stat()
        #expect(lstat(top + "/etc/hello", &w) == 0 && (w.st_mode & S_IFMT) == S_IFCHR && w.st_rdev == 0)
        #expect(!FileManager.default.fileExists(atPath: top + "/etc/.wh.hello"))
        var opaque = [UInt8](repeating: 0, count: 4)
        #expect(cberthGetxattr(top + "/data", "trusted.overlay.opaque", &opaque) == 1 && opaque[0] == UInt8(ascii: "y"))
        #expect(FileManager.default.contents(atPath: top + "/data/c") == Data("c\n".utf8))
        // The index: linux/amd64 picked, its layers already stored.
        lines.removeAll()
        let id2 = try pull.pull("\(reg.name)/test/bb:multi")
        #expect(store.image(id2)?.layers == image.layers)
        #expect(lines.contains { $0.contains("index of 2 platforms: linux/amd64") })
        #expect(lines.filter { $0.contains("already present") }.count == 2, "\(lines)")
    }

    @Test func aLayerThatLeavesItsRootIsRefused() throws {
        let reg = LocalRegistry.shared
        let store = try freshStore()
        #expect {
            try ImagePull(store: store, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:evil")
        } throws: { "\($0)".contains("../escape leaves the layer") }
        #expect(try store.resolve("\(reg.name)/test/bb:evil") == nil)
    }

    @Test func aFileThroughAnAbsoluteSymlinkIsRefused() throws {
        let reg = LocalRegistry.shared
        unlink("/tmp/berth-symlink-escape")
        #expect {
            try ImagePull(store: try freshStore(), insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:trick")
        } throws: { "\($0)".contains("berth-symlink-escape") }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/berth-symlink-escape"))
    }

    @Test func aCorruptedBlobIsRefusedByDigest() throws {
        let reg = LocalRegistry.shared
        // Flip a byte of that layer's blob in the registry's storage.
        let hex = String(reg.corruptLayer.dropFirst(7))
        let path = "\(reg.storage)/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[data.count / 2] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
        let store = try freshStore()
        #expect {
            try ImagePull(store: store, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:corrupt")
        } throws: { "\($0)".contains("corrupted, refused") }
    }

    /// An interrupted download left `blob-HEX.partial`: the next pull asks for
    /// the rest (Range) and checks the whole. A partial that does not match
    /// fails the digest check (so it was used), is dropped, and the pull after
    /// that succeeds from scratch.
    @Test func anInterruptedDownloadResumes() throws {
        let reg = LocalRegistry.shared
        let manifest = try shellOut("curl -s http://\(reg.name)/v2/test/bb/manifests/single -H 'Accept: application/vnd.oci.image.manifest.v1+json'").1
        let json = try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any]
        let layer = try #require(((json?["layers"] as? [[String: Any]])?.first?["digest"] as? String))  // the busybox layer
        let blob = try Data(contentsOf: URL(fileURLWithPath: "\(reg.storage)/docker/registry/v2/blobs/sha256/\(layer.dropFirst(7).prefix(2))/\(layer.dropFirst(7))/data"))
        // A good half: resumed.
        let store = try freshStore()
        try blob.prefix(blob.count / 2).write(to: URL(fileURLWithPath: store.root + "/tmp/blob-\(layer.dropFirst(7)).partial"))
        #expect(throws: Never.self) { try ImagePull(store: store, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single") }
        // A bad half: refused by digest, then a clean retry.
        let other = try freshStore()
        var bad = blob.prefix(blob.count / 2)
        bad[bad.startIndex + 10] ^= 0xFF
        try bad.write(to: URL(fileURLWithPath: other.root + "/tmp/blob-\(layer.dropFirst(7)).partial"))
        #expect {
            try ImagePull(store: other, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single")
        } throws: { "\($0)".contains("corrupted, refused") }
        #expect(!FileManager.default.fileExists(atPath: other.root + "/tmp/blob-\(layer.dropFirst(7)).partial"))
        #expect(throws: Never.self) { try ImagePull(store: other, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single") }
    }

    /// The token front, on its own port; stopped when the returned handle goes.
    func tokenFront(_ reg: LocalRegistry, credentials: String? = nil) throws -> (Int, Process) {
        let script = Bundle.module.url(forResource: "token_proxy", withExtension: "py", subdirectory: "Fixtures")!.path
        let front = Process()
        front.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        front.arguments = ["python3", script, String(reg.port)] + (credentials.map { [$0] } ?? [])
        let out = Pipe()
        front.standardOutput = out
        try front.run()
        var line = Data()
        while true {
            let b = out.fileHandleForReading.readData(ofLength: 1)
            if b.isEmpty || b == Data([0x0A]) { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw StoreError("token front did not start") }
        return (port, front)
    }

    @Test func bearerTokenChallengeIsAnswered() throws {
        let reg = LocalRegistry.shared
        let (port, front) = try tokenFront(reg)
        defer { kill(front.processIdentifier, SIGKILL) }
        let store = try freshStore()
        let id = try ImagePull(store: store, insecure: ["127.0.0.1:\(port)"]) { _ in }.pull("127.0.0.1:\(port)/test/bb:single")
        #expect(store.image(id)?.layers.count == 2)
        // One token, reused for the manifest, the config and both layers.
        #expect(try shellOut("curl -s -H 'Authorization: Bearer good-token' http://127.0.0.1:\(port)/issued").1 == "1")
    }

    /// A private repository: the token endpoint wants credentials, which come
    /// from BERTH_REGISTRY_AUTH (host=user:password).
    @Test func credentialsFromTheEnvironmentGetTheToken() throws {
        let reg = LocalRegistry.shared
        let (port, front) = try tokenFront(reg, credentials: "ci:s3cret")
        defer { kill(front.processIdentifier, SIGKILL) }
        let host = "127.0.0.1:\(port)"
        #expect {
            try ImagePull(store: try freshStore(), insecure: [host]) { _ in }.pull("\(host)/test/bb:single")
        } throws: { "\($0)".contains("token request") && "\($0)".contains("HTTP 401") }
        setenv("BERTH_REGISTRY_AUTH", "other.example=x:y,\(host)=ci:s3cret", 1)
        defer { unsetenv("BERTH_REGISTRY_AUTH") }
        let store = try freshStore()
        let id = try ImagePull(store: store, insecure: [host]) { _ in }.pull("\(host)/test/bb:single")
        #expect(store.image(id)?.layers.count == 2)
    }

    /// Pushing through the token front: the first write is challenged for a
    /// `pull,push` scope, whose token then serves the whole push.
    @Test func aPushAnswersThePushScopeChallenge() throws {
        let reg = LocalRegistry.shared
        let (port, front) = try tokenFront(reg)
        defer { kill(front.processIdentifier, SIGKILL) }
        let host = "127.0.0.1:\(port)"
        let store = try freshStore()
        _ = try ImagePull(store: store, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single")
        let r = try ImagePush(store: store, insecure: [host]) { _ in }.push("\(reg.name)/test/bb:single", to: "\(host)/test/through-front:1")
        #expect(r.uploaded == 3)
        #expect(try shellOut("skopeo inspect --raw --tls-verify=false docker://\(reg.name)/test/through-front:1").0 == 0, "in the registry behind the front")
    }

    @Test func plainHTTPOnlyForInsecureRegistries() throws {
        let reg = LocalRegistry.shared
        let store = try freshStore()
        #expect {
            try ImagePull(store: store) { _ in }.pull("\(reg.name)/test/bb:single")
        } throws: { "\($0)".contains("https://\(reg.name)") }
    }

    @Test func fromPullsWhatTheStoreLacks() throws {
        let reg = LocalRegistry.shared
        let store = try freshStore()
        let ctx = store.root + "-ctx"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "FROM \(reg.name)/test/bb:single\nRUN ls /data > /listing\n".write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
        var opts = BuildOptions(context: ctx)
        opts.insecureRegistries = [reg.name]
        var lines: [String] = []
        let id = try Builder(store: store, output: { lines.append($0) }).build(opts)
        #expect(lines.contains { $0.contains("pulling \(reg.name)/test/bb:single") })
        let top = try #require(store.image(id)?.layers.last)
        #expect(FileManager.default.contents(atPath: store.layerPath(top) + "/listing") == Data("c\n".utf8))  // the opaque dir, through overlayfs
    }
}

import CBerthSystem

/// lgetxattr into `value`; the length read, or -1.
func cberthGetxattr(_ path: String, _ name: String, _ value: inout [UInt8]) -> Int {
    value.withUnsafeMutableBytes { Int(cberth_lgetxattr(path, name, $0.baseAddress, $0.count)) }
}

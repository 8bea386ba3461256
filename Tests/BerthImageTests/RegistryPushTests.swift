import Testing
import Foundation
@testable import BerthImage
import BerthRuntime
import BerthConfig
import BerthKubernetes

#if canImport(Glibc)
import Glibc
#endif

/// `berth push` against Debian's docker-registry: an image pulled from it
/// (whiteouts, an opaque directory, a hardlink) is pushed under another
/// name, skopeo sees its manifest and layers, a pull into an empty store
/// gives the same config and the same trees, a second push uploads nothing,
/// and a registry that refuses a blob leaves a clear error and nothing written.
@Suite(.serialized) struct RegistryPushTests {
    func freshStore() throws -> ImageStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-push-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try ImageStore(root: dir)
    }

    @Test func pushThenPullGivesTheSameImage() throws {
        let reg = LocalRegistry.shared
        let source = try freshStore()
        _ = try ImagePull(store: source, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single")
        let original = try #require(try source.resolve("\(reg.name)/test/bb:single")?.image)

        var lines: [String] = []
        let push = ImagePush(store: source, insecure: [reg.name]) { lines.append($0) }
        let target = "\(reg.name)/test/pushed:v1"
        let first = try push.push("\(reg.name)/test/bb:single", to: target)
        #expect(lines.contains { $0.hasPrefix("pushing ") })
        // A new repository: every layer and the config go up (no cross-repository mount).
        #expect(first.uploaded == original.layers.count + 1 && first.skipped == 0, "\(lines)")
        #expect(lines.filter { $0.contains("uploaded in") }.count == original.layers.count)

        let (status, inspect) = try shellOut("skopeo inspect --raw --tls-verify=false docker://\(target)")
        #expect(status == 0, "\(inspect)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(inspect.utf8)) as? [String: Any])
        #expect(manifest["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
        #expect((manifest["layers"] as? [[String: Any]])?.count == original.layers.count)

        // Into an empty store: the same config and the same layer trees (LayerDigest is a tree hash).
        let copy = try freshStore()
        _ = try ImagePull(store: copy, insecure: [reg.name]) { _ in }.pull(target)
        let pulled = try #require(try copy.resolve(target)?.image)
        #expect(pulled.layers == original.layers)
        #expect(pulled.config == original.config)
        var w = stat()
        #expect(lstat(copy.layerPath(pulled.layers[1]) + "/etc/hello", &w) == 0 && (w.st_mode & S_IFMT) == S_IFCHR, "the whiteout came back")

        // Reproducible: the same push again gives the same manifest and uploads nothing.
        lines.removeAll()
        let second = try push.push("\(reg.name)/test/bb:single", to: target)
        #expect(second.manifestDigest == first.manifestDigest)
        #expect(second.uploaded == 0 && second.skipped == original.layers.count + 1, "\(lines)")
        #expect(lines.filter { $0.contains("already in the registry") }.count == original.layers.count)
    }

    /// Blobs above the chunk size go up in PATCHes; an image named after
    /// another repository of the registry has its blobs mounted from there.
    @Test func chunkedUploadsAndCrossRepositoryMounts() throws {
        let reg = LocalRegistry.shared
        let source = try freshStore()
        _ = try ImagePull(store: source, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single")
        var lines: [String] = []
        let chunked = ImagePush(store: source, insecure: [reg.name], chunkSize: 64 << 10) { lines.append($0) }
        _ = try chunked.push("\(reg.name)/test/bb:single", to: "\(reg.name)/test/chunked:v1")
        #expect(lines.contains { $0.contains("parts in") }, "\(lines)")
        // A second later than the first pull, so the whiteout this pull makes has
        // another time (which must not be part of the layer's bytes).
        sleep(1)
        let back = try freshStore()
        _ = try ImagePull(store: back, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/chunked:v1")
        #expect(try back.resolve("\(reg.name)/test/chunked:v1")?.image.layers == source.resolve("\(reg.name)/test/bb:single")?.image.layers)
        // test/chunked holds exactly the blobs a push of this image makes: mounted, not sent.
        lines.removeAll()
        let r = try ImagePush(store: back, insecure: [reg.name]) { lines.append($0) }.push("\(reg.name)/test/chunked:v1", to: "\(reg.name)/test/mounted:v1")
        #expect(lines.filter { $0.contains("mounted from test/chunked") }.count == 2, "\(lines)")
        #expect(r.uploaded == 0)
        #expect(try shellOut("skopeo inspect --tls-verify=false docker://\(reg.name)/test/mounted:v1 >/dev/null").0 == 0)
    }

    /// What `berth export kubernetes --registry` tells the cluster to run is
    /// exactly where the push it prints puts the image.
    @Test func theExportedImageIsWhereThePushPutsIt() throws {
        let reg = LocalRegistry.shared
        let store = try freshStore()
        _ = try ImagePull(store: store, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single")
        let config = try Config.parse("listen :80\napp bb {\n path /bb\n image \(reg.name)/test/bb:single\n port 8000\n}\n", file: "k.conf")
        var exporter = KubernetesExporter(config: config, options: ExportOptions(registry: "\(reg.name)/exported"))
        let export = try exporter.run()
        let push = try #require(export.pushes.first)
        #expect(push.remote == "\(reg.name)/exported/bb:single")
        let deployment = try #require(export.files.flatMap(\.documents).first { $0["kind"] == "Deployment" })
        guard case .list(let containers)? = deployment["spec"]?["template"]?["spec"]?["containers"] else {
            Issue.record("no containers")
            return
        }
        #expect(containers.first?["image"] == .string(push.remote))
        _ = try ImagePush(store: store, insecure: [reg.name]) { _ in }.push(push.local, to: push.remote)
        let (status, out) = try shellOut("skopeo inspect --tls-verify=false docker://\(push.remote)")
        #expect(status == 0, "\(out)")
    }

    @Test func aRefusedBlobIsAClearErrorAndNothingIsWritten() throws {
        let reg = LocalRegistry.shared
        let store = try freshStore()
        _ = try ImagePull(store: store, insecure: [reg.name]) { _ in }.pull("\(reg.name)/test/bb:single")
        let tagsBefore = try store.tags()
        // A registry that opens uploads and refuses every blob.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("refuse-\(UUID().uuidString).py").path
        try """
            import http.server, os, sys
            class H(http.server.BaseHTTPRequestHandler):
                def log_message(self, *a): pass
                def do_HEAD(self):
                    self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
                def do_POST(self):
                    self.send_response(202); self.send_header("Location", "/v2/x/blobs/uploads/u1"); self.send_header("Content-Length", "0"); self.end_headers()
                def do_PUT(self):
                    n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
                    body = b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"quota exceeded"}]}'
                    self.send_response(400); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            os.write(1, f"{s.server_port}\\n".encode())
            s.serve_forever()
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [script]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL) }
        var line = Data()
        while true {
            let b = out.fileHandleForReading.readData(ofLength: 1)
            if b.isEmpty || b == Data([0x0A]) { break }
            line.append(b)
        }
        let port = try #require(Int(String(decoding: line, as: UTF8.self)))
        #expect {
            try ImagePush(store: store, insecure: ["127.0.0.1:\(port)"]) { _ in }.push("\(reg.name)/test/bb:single", to: "127.0.0.1:\(port)/x:1")
        } throws: { "\($0)".contains("refused blob") && "\($0)".contains("quota exceeded") }
        #expect(try store.tags() == tagsBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp").isEmpty, "no staging left")
    }
}

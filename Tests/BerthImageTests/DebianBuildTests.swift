import Testing
import Foundation
@testable import BerthImage

/// The slow path: a Debian base made by mmdebstrap (no registry), then apt
/// inside a RUN through the host's network and resolv.conf. ~1 minute.
@Suite(.serialized) struct DebianBuildTests {
    @Test func bookwormSlimWithPython3() throws {
        let store = try ImageStore(root: tempDir("debian-store"))
        let dockerfile = """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
        CMD ["python3", "-c", "print('Hello world!')"]
        """
        let start = Date()
        let (id, lines, ctx) = try build(store, dockerfile)
        let cold = Date().timeIntervalSince(start)
        // Local store, then the registry (Docker Hub does not answer here), then the bootstrap — each step said.
        #expect(lines.contains { $0.contains("pulling docker.io/library/debian:bookworm-slim from https://registry-1.docker.io") })
        #expect(lines.contains { $0.contains("registry pull failed (") && $0.contains("bootstrapping instead") })
        #expect(lines.contains { $0.contains("bootstrapping debian:bookworm-slim with mmdebstrap") })
        #expect(try store.resolve("debian:bookworm-slim") != nil)
        let layers = store.image(id)!.layers
        #expect(layers.contains { FileManager.default.fileExists(atPath: store.layerPath($0) + "/usr/bin/python3") })
        #expect(store.image(id)!.config.config.Cmd == ["python3", "-c", "print('Hello world!')"])
        let again = Date()
        let (_, rebuild, _) = try build(store, dockerfile, context: ctx)
        let warm = Date().timeIntervalSince(again)
        #expect(rebuild.contains { $0.hasSuffix(" CACHED") })
        #expect(warm < 1)
        print(String(format: "debian python3 build: cold %.1fs (with bootstrap), no-change rebuild %.3fs", cold, warm))

        // The fully qualified name is the stored short tag (no registry, no
        // second bootstrap), and localhost resolves inside RUN.
        let (_, qualified, _) = try build(store, "FROM docker.io/library/debian:bookworm-slim\nRUN getent hosts localhost\n")
        #expect(qualified.contains { $0.contains("using debian:bookworm-slim sha256:") && $0.contains("from the local store") }, "\(qualified)")
        #expect(!qualified.contains { $0.contains("pulling") || $0.contains("bootstrapping") })
        #expect(qualified.contains { $0.hasSuffix(" localhost") || $0.contains("localhost berth-build") })
    }
}

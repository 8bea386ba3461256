import Testing
import Foundation
@testable import BerthImage

#if canImport(Glibc)
import Glibc
#endif

func tempDir(_ name: String) -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("berth-\(name)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func write(_ path: String, _ text: String, mode: Int = 0o644) {
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
}

@Suite struct LayerDigestTests {
    func tree() -> String {
        let d = tempDir("layer")
        try? FileManager.default.createDirectory(atPath: d + "/etc", withIntermediateDirectories: true)
        write(d + "/etc/motd", "hello\n")
        write(d + "/run.sh", "#!/bin/sh\n", mode: 0o755)
        symlink("run.sh", d + "/link")
        return d
    }

    @Test func contentModeOwnerAndLinksCountButMtimesDoNot() throws {
        let d = tree()
        let base = try LayerDigest.compute(d).digest
        #expect(try LayerDigest.compute(tree()).digest == base)  // same content elsewhere
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, d + "/etc/motd", &times, 0)
        #expect(try LayerDigest.compute(d).digest == base)
        chmod(d + "/etc/motd", 0o600)
        let moded = try LayerDigest.compute(d).digest
        #expect(moded != base)
        chown(d + "/etc/motd", 1000, 1000)
        #expect(try LayerDigest.compute(d).digest != moded)
        write(d + "/etc/motd", "hellO\n")
        #expect(try LayerDigest.compute(d).digest != moded)
        #expect(try LayerDigest.compute(d).size == 6 + 10)
    }

    @Test func whiteoutsArePartOfTheLayer() throws {
        let d = tree()
        let base = try LayerDigest.compute(d).digest
        mknod(d + "/gone", S_IFCHR | 0o000, 0)  // overlay whiteout
        #expect(try LayerDigest.compute(d).digest != base)
    }
}

@Suite struct ImageStoreTests {
    func tarball() -> String {
        let src = tempDir("rootfs")
        try? FileManager.default.createDirectory(atPath: src + "/bin", withIntermediateDirectories: true)
        write(src + "/bin/hello", "echo hi\n", mode: 0o755)
        let tar = tempDir("tar") + "/rootfs.tar"
        _ = ImageStore.run(["tar", "-C", src, "-cf", tar, "."])
        return tar
    }

    @Test func importTagResolveRemovePrune() throws {
        let store = try ImageStore(root: tempDir("store"))
        let id = try store.importTarball(tarball(), as: "base")
        #expect(try store.tags() == ["base:latest": id])
        let (rid, image) = try #require(try store.resolve("base"))
        #expect(rid == id)
        #expect(image.layers.count == 1)
        #expect(image.config.rootfs.diff_ids == ["sha256:" + image.layers[0]])
        #expect(FileManager.default.fileExists(atPath: store.layerPath(image.layers[0]) + "/bin/hello"))
        #expect(try store.resolve(String(id.prefix(12)))?.id == id)
        try store.tag("base:v2", id)
        #expect(try store.remove("base") == id)
        #expect(store.image(id) != nil)  // still tagged base:v2
        #expect(try store.prune() == 0)
        _ = try store.remove("base:v2")
        #expect(store.image(id) == nil)
        #expect(try store.prune() == 8)
        #expect(throws: StoreError.self) { _ = try store.remove("base:v2") }
    }

    @Test func aBadTarballLeavesNothingBehind() throws {
        let root = tempDir("store")
        let store = try ImageStore(root: root)
        let bad = tempDir("bad") + "/not.tar"
        write(bad, "this is not a tar archive")
        #expect(throws: StoreError.self) { _ = try store.importTarball(bad, as: "x") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/layers").isEmpty)
        #expect(try store.tags().isEmpty)
    }

    @Test func concurrentTaggingLosesNothing() throws {
        let store = try ImageStore(root: tempDir("store"))
        let id = try store.importTarball(tarball(), as: "base")
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            try? store.tag("app\(i)", id)
        }
        #expect(try store.tags().count == 41)
    }

    @Test func referenceNormalisation() {
        #expect(ImageStore.normalize("busybox") == "busybox:latest")
        #expect(ImageStore.normalize("debian:bookworm-slim") == "debian:bookworm-slim")
        #expect(ImageStore.normalize("localhost:5000/app") == "localhost:5000/app:latest")
        #expect(ImageStore.normalize("localhost:5000/app:1") == "localhost:5000/app:1")
        // Fully qualified names are the short tag they stand for.
        #expect(ImageStore.normalize("docker.io/library/debian:bookworm") == "debian:bookworm")
        #expect(ImageStore.normalize("index.docker.io/library/debian") == "debian:latest")
        #expect(ImageStore.normalize("library/debian:12") == "debian:12")
        #expect(ImageStore.normalize("docker.io/team/app:2") == "team/app:2")
        #expect(ImageStore.normalize("ghcr.io/team/app") == "ghcr.io/team/app:latest")
    }

    @Test func aFullyQualifiedReferenceFindsTheShortTag() throws {
        let store = try ImageStore(root: tempDir("store"))
        let id = try store.commitImage(config: ImageConfig(), layers: [])
        try store.tag("debian:bookworm", id)
        #expect(try store.resolve("docker.io/library/debian:bookworm")?.id == id)
        #expect(try store.resolve("library/debian:bookworm")?.id == id)
        try store.tag("docker.io/library/busybox", id)
        #expect(try store.tags().keys.contains("busybox:latest"))
        #expect(try store.resolve("busybox")?.id == id)
    }
}

@Suite struct BaseBootstrapTests {
    @Test func whichNamesCanBeBootstrapped() throws {
        let cases: [(String, String, String)] = [
            ("debian:bookworm", "debian", "bookworm"), ("debian:bookworm-slim", "debian", "bookworm"),
            ("docker.io/library/debian:bookworm", "debian", "bookworm"),
            ("debian:12", "debian", "bookworm"), ("debian:11", "debian", "bullseye"), ("debian:12-slim", "debian", "bookworm"),
            ("debian:12.8", "debian", "bookworm"), ("debian:13", "debian", "trixie"),
            ("debian:stable", "debian", "stable"), ("debian:oldstable", "debian", "oldstable"), ("debian:stable-slim", "debian", "stable"),
            ("debian:bookworm-20241111", "debian", "bookworm"), ("debian:bookworm-20241111-slim", "debian", "bookworm"),
            ("debian", "debian", "stable"), ("debian:sid", "debian", "sid"),
            ("ubuntu:jammy", "ubuntu", "jammy"), ("ubuntu:24.04", "ubuntu", "noble"),
        ]
        for (ref, distro, suite) in cases {
            let got = try BaseBootstrap.suite(of: ref)
            #expect(got?.0 == distro && got?.1 == suite, "\(ref) -> \(String(describing: got))")
        }
        #expect(try BaseBootstrap.suite(of: "node:20") == nil)
        #expect(try BaseBootstrap.suite(of: "ghcr.io/x/debian:12") == nil)
        for bad in ["debian:12.x", "debian:99", "debian:bookworm-backports", "debian:potato", "ubuntu:13.37"] {
            #expect(throws: StoreError.self, "\(bad)") { try BaseBootstrap.suite(of: bad) }
        }
        do {
            _ = try BaseBootstrap.suite(of: "debian:potato")
        } catch {
            #expect("\(error)".contains("debian:potato: not a Debian tag berth can bootstrap: expected a codename (bookworm, "), "\(error)")
        }
    }

    @Test func ubuntuWithoutItsKeyringFailsClearly() throws {
        guard !FileManager.default.fileExists(atPath: "/usr/share/keyrings/ubuntu-archive-keyring.gpg") else { return }
        let store = try ImageStore(root: tempDir("store"))
        do {
            _ = try BaseBootstrap.bootstrap("ubuntu:jammy", store: store) { _ in }
            Issue.record("expected a keyring error")
        } catch {
            #expect(error.description.contains("archive keyring"))
        }
    }
}

@Suite struct BootstrapLockTests {
    /// A second bootstrap of a name that appeared while it waited uses that image.
    @Test func concurrentBootstrapsShareOneImage() throws {
        let root = tempDir("store")
        let store = try ImageStore(root: root)
        let tar = tempDir("tar") + "/base.tar"
        let src = tempDir("base")
        write(src + "/marker", "x")
        _ = ImageStore.run(["tar", "-C", src, "-cf", tar, "."])
        let id = try store.importTarball(tar, as: "debian:bookworm-slim")
        // The image is in the store, so bootstrap must not run mmdebstrap.
        var lines: [String] = []
        #expect(try BaseBootstrap.bootstrap("debian:bookworm-slim", store: store) { lines.append($0) } == id)
        #expect(lines.first?.contains("bootstrapped meanwhile") == true)
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Makes `debian:SUITE`, `debian:SUITE-slim` and `ubuntu:SUITE` base images
/// without a registry: mmdebstrap's minbase of that suite, with the host's
/// apt `Acquire::` settings so it works wherever the host's apt does.
enum BaseBootstrap {
    /// (distribution, suite) for Debian's and Ubuntu's images; nil for other
    /// images; throws for a Debian or Ubuntu tag that names no suite.
    static func suite(of ref: String) throws(StoreError) -> (String, String)? {
        guard let r = try? ImageReference(parsing: ref), r.domain == "docker.io",
              r.repository == "library/debian" || r.repository == "library/ubuntu", let tag = r.tag, r.digest == nil else { return nil }
        let distro = r.repository == "library/ubuntu" ? "ubuntu" : "debian"
        return (distro, try BaseImageTag.suite(distro: distro, tag: tag))
    }

    /// Bootstraps `ref` into the store (once: concurrent builds, threads or
    /// processes, wait for the first and use its image); returns the image id.
    static func bootstrap(_ ref: String, store: ImageStore, log: (String) -> Void) throws(StoreError) -> String {
        let fd = open(store.root + "/bootstrap.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot open the bootstrap lock") }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        if let (id, _) = try store.resolve(ref) {
            log("\(ImageStore.normalize(ref)) was bootstrapped meanwhile: using sha256:\(id.prefix(12))")
            return id
        }
        return try bootstrapLocked(ref, store: store, log: log)
    }

    private static func bootstrapLocked(_ ref: String, store: ImageStore, log: (String) -> Void) throws(StoreError) -> String {
        guard let (distro, suite) = try suite(of: ref) else { throw StoreError("\(ref) cannot be bootstrapped") }
        let start = Date()
        let work = try store.stagingDirectory("bootstrap")
        defer { ImageStore.removeTree(work) }
        var args = ["mmdebstrap", "--variant=minbase", "--quiet"]
        for opt in hostAcquireOptions() { args.append("--aptopt=\(opt)") }
        args += [suite, work + "/rootfs.tar"]
        if distro == "ubuntu" {
            // Release files are verified: without Ubuntu's key there is no honest way in.
            let keyring = "/usr/share/keyrings/ubuntu-archive-keyring.gpg"
            guard FileManager.default.fileExists(atPath: keyring) else {
                throw StoreError("\(ref): bootstrapping Ubuntu needs its archive keyring at \(keyring) (Debian 12 does not package it); install it there, or import an Ubuntu rootfs with 'berth image import'")
            }
            args.insert("--keyring=\(keyring)", at: 3)
            args.append("http://archive.ubuntu.com/ubuntu")
        }
        log("bootstrapping \(ImageStore.normalize(ref)) with mmdebstrap \(suite) (no registry answered)")
        let status = ImageStore.run(args)
        guard status == 0 else { throw StoreError("mmdebstrap \(suite) failed (exit \(status)); is mmdebstrap installed and the \(distro) mirror reachable?") }
        let id = try store.importTarball(work + "/rootfs.tar", as: ref)
        log(String(format: "bootstrapped %@ in %.1fs", ImageStore.normalize(ref), Date().timeIntervalSince(start)))
        return id
    }

    /// `Acquire::...` lines from the host's apt configuration.
    static func hostAcquireOptions() -> [String] {
        var files = ["/etc/apt/apt.conf"]
        files += ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/apt/apt.conf.d")) ?? []).sorted().map { "/etc/apt/apt.conf.d/" + $0 }
        var out: [String] = []
        for f in files {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let l = line.trimmingCharacters(in: .whitespaces)
                if l.hasPrefix("Acquire::") && l.hasSuffix(";") { out.append(l) }
            }
        }
        return out
    }
}

import BerthRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The steps that make layers: RUN (runc on an overlay of the parent
/// layers; the upper dir becomes the layer), COPY/ADD (staged, then stored
/// under their content digest) and WORKDIR (the directory, when missing).
extension Builder {
    func run(_ inst: Instruction, _ stage: inout BuildStage, stages: [BuildStage], ctx: Context, n: Int, start: DispatchTime) throws(BuildError) {
        let flags: RunFlags
        do {
            flags = try RunFlags.parse(inst.flags, workdir: stage.workdir, where: "\(ctx.dockerfile):\(inst.startLine)")
        } catch {
            throw BuildError(error.message, step: "\(n)")
        }
        var args: [String]
        if inst.isJSON {
            args = inst.strings
        } else {
            let line = inst.strings.first ?? ""
            if inst.heredocs.count == 1, Heredocs.find(in: line).count == 1, DockerfileWords.splitWhitespace(line).count == 1 {
                // `RUN <<EOF` alone: the heredoc is the script.
                args = stage.shell + [inst.heredocs[0].content]
            } else {
                // `RUN cmd <<EOF`: sh reads heredocs itself; hand it the line and the bodies.
                var script = line
                for h in inst.heredocs { script += "\n" + h.content + h.name }
                args = stage.shell + [script]
            }
        }
        let env = stage.runEnv
        let user = stage.config.config.User ?? ""
        // The mounts' specifications (never their contents) are part of the key;
        // a RUN without flags keeps the key it always had.
        let key = BuildCache.key([stage.key, "run"] + args + env + [user, stage.workdir]
                                 + (flags == RunFlags() ? [] : flags.keyParts + (try bindSourceKeys(flags, stages: stages, ctx: ctx, n: n))))
        if !ctx.options.noCache, let hit = cache.lookup(key, store: store) {
            stage.layers.append((hit.layer, hit.size))
            stage.key = key
            stage.recordHistory(inst, command: args, emptyLayer: false)
            output("#\(n) CACHED")
            return
        }
        let work: String
        do { work = try store.stagingDirectory("run") } catch { throw BuildError("\(error)", step: "\(n)") }
        defer { ImageStore.removeTree(work) }
        var lowers = stage.layers.reversed().map { store.layerPath($0.digest) }
        if lowers.isEmpty {
            mkdir(work + "/empty", 0o755)
            lowers = [work + "/empty"]
        }
        let rootfs = work + "/rootfs"
        let overlay: OverlayMount
        do {
            try shapeLayerRoot(work + "/upper", like: stage)
            overlay = try OverlayMount(lowers: lowers, upper: work + "/upper", work: work + "/ovl", target: rootfs)
        } catch {
            throw BuildError("\(error)", step: "\(n)")
        }
        defer { overlay.unmount() }
        // Mount points runc may create; they are removed from the layer unless they were there.
        let probes = ["/etc/resolv.conf", "/etc/hosts", "/proc", "/dev", "/sys", "/etc"]
        let existed = Set(probes.filter { access(rootfs + $0, F_OK) == 0 })
        let cwd = stage.workdir
        let (uid, gid) = try ownerIDs(user, stage: stage, n: n)
        var spec = OCISpec(rootfs: rootfs, args: args, env: env, cwd: cwd, uid: uid, gid: gid,
                           hostname: "berth-build", hostNetwork: flags.network != .none)
        spec.secure(.build)
        let mounts = try RunMounts(flags, work: work, rootfs: rootfs, context: ctx.options.context, cacheRoot: store.root + "/cache-mounts",
                                   secrets: ctx.options.secrets) { (from: String) throws(BuildError) -> [String] in
            try self.layerDirectories(of: from, stages: stages, n: n)
        }
        defer { mounts.release() }
        spec.mounts += mounts.specMounts
        if access("/etc/resolv.conf", R_OK) == 0 { spec.bind("/etc/resolv.conf", to: "/etc/resolv.conf") }
        // localhost resolves during RUN, as under BuildKit; the file is the
        // step's own (writable, thrown away), never part of the layer.
        guard FileManager.default.createFile(atPath: work + "/hosts", contents: Data(Self.buildHosts.utf8)) else {
            throw BuildError("cannot write \(work)/hosts", step: "\(n)")
        }
        spec.bind(work + "/hosts", to: "/etc/hosts", writable: true)
        let bundle = work + "/bundle"
        mkdir(bundle, 0o755)
        var last: [String] = []
        let status: Int32
        do {
            try spec.write(to: bundle)
            status = try runc.run(bundle: bundle, id: "berth-build-\(getpid())-\(n)-\(UInt32.random(in: 0...UInt32.max))") { line in
                let t = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
                output("#\(n) \(String(format: "%.3f", t)) \(line)")
                last.append(line)
                if last.count > 20 { last.removeFirst() }
            }
        } catch {
            throw BuildError("\(error)", step: "\(n)")
        }
        mounts.release()
        overlay.unmount()
        guard status == 0 else {
            throw BuildError("RUN \(args.last ?? "") exited with status \(status)", step: "#\(n) \(DockerfileWords.trimSpace(inst.original))", lastLines: last)
        }
        for p in probes where !existed.contains(p) { Self.removeIfEmpty(work + "/upper" + p) }
        // Mount points runc made for --mount targets, and the directories made for them.
        for t in mounts.createdTargets { Self.removeIfEmpty(work + "/upper" + t) }
        let layer: (digest: String, size: Int)
        do { layer = try store.commitLayer(work + "/upper") } catch { throw BuildError("\(error)", step: "\(n)") }
        cache.save(key, .init(layer: layer.digest, size: layer.size))
        stage.layers.append(layer)
        stage.key = key
        stage.recordHistory(inst, command: args, emptyLayer: false)
        done(n, start)
    }

    /// What a step's bind mounts read, for its cache key: the content digest
    /// of a context source, the key of a stage, the id of an image — so a
    /// changed requirements.txt reruns `RUN --mount=type=bind,source=requirements.txt`.
    func bindSourceKeys(_ flags: RunFlags, stages: [BuildStage], ctx: Context, n: Int) throws(BuildError) -> [String] {
        var out: [String] = []
        for case let .bind(_, source, from, _) in flags.mounts {
            if let from {
                if let s = stages.first(where: { $0.name == from.lowercased() }) ?? Int(from).flatMap({ stages.indices.contains($0) ? stages[$0] : nil }) {
                    out.append("stage:" + s.key)
                } else if let (id, _) = try storedImage(from, step: n) {
                    out.append("image:" + id)
                }
                continue
            }
            let path = ctx.options.context + "/" + DockerIgnore.clean(source)
            var st = stat()
            // Missing, or leading out of the context: RunMounts refuses it (never digest what is outside).
            guard lstat(path, &st) == 0, HostPath.leadsInside(path, root: ctx.options.context) else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                do { out.append("dir:" + (try LayerDigest.compute(path)).digest) } catch { throw BuildError("\(error)", step: "\(n)") }
            } else if let data = FileManager.default.contents(atPath: path) {
                let h = SHA256()
                data.withUnsafeBytes { h.update($0) }
                out.append("file:" + h.finish())
            }
        }
        return out
    }

    /// The layer directories (top first) of a stage (by name or index) or a stored image.
    func layerDirectories(of from: String, stages: [BuildStage], n: Int) throws(BuildError) -> [String] {
        if let s = stages.first(where: { $0.name == from.lowercased() }) ?? Int(from).flatMap({ stages.indices.contains($0) ? stages[$0] : nil }) {
            return s.layers.reversed().map { store.layerPath($0.digest) }
        }
        if let (_, image) = try storedImage(from, step: n) { return image.layers.reversed().map { store.layerPath($0) } }
        throw BuildError("from=\(from): no such stage or image", step: "\(n)")
    }

    /// /etc/hosts of a RUN step (BuildKit's, with berth's build host name).
    static let buildHosts = "127.0.0.1\tlocalhost berth-build\n::1\tlocalhost ip6-localhost ip6-loopback\n"

    static func removeIfEmpty(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR { rmdir(path) } else if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 { unlink(path) }
    }

    /// `uid[:gid]` or names looked up in the stage's /etc/passwd and /etc/group.
    func ownerIDs(_ spec: String, stage: BuildStage, n: Int) throws(BuildError) -> (UInt32, UInt32) {
        do {
            return try store.userIDs(spec, layers: stage.layers.map(\.digest))
        } catch {
            throw BuildError("\(error)", step: "\(n)")
        }
    }

    // MARK: - COPY / ADD

    func copy(_ inst: Instruction, _ stage: inout BuildStage, stages: [BuildStage], ctx: Context, env: [String: String],
              n: Int, start: DispatchTime) throws(BuildError) {
        var from: String?, chown: String?, chmod: mode_t?
        for f in inst.flags {
            if f.hasPrefix("--from=") { from = String(f.dropFirst(7)) }
            else if f.hasPrefix("--chown=") { chown = try expand(ctx.shell, String(f.dropFirst(8)), env) }
            else if f.hasPrefix("--chmod=") {
                guard let m = mode_t(f.dropFirst(8), radix: 8) else { throw BuildError("bad --chmod \(f)", step: "\(n)") }
                chmod = m
            } else if f == "--link" || f.hasPrefix("--link=") { continue }
            else { throw BuildError("\(inst.name.uppercased()) \(f) is not supported", step: "\(n)") }
        }
        var words: [String] = []
        for w in inst.strings { words.append(try expand(ctx.shell, w, env)) }
        guard words.count >= 2 else { throw BuildError("\(inst.name.uppercased()) needs a source and a destination", step: "\(n)") }
        let destText = words.removeLast()
        let dest = Builder.resolve(destText, against: stage.workdir)
        let (uid, gid) = try ownerIDs(chown ?? "", stage: stage, n: n)
        let staging: String
        do {
            staging = try store.stagingDirectory("copy")
            try shapeLayerRoot(staging, like: stage)
        } catch {
            throw BuildError("\(error)", step: "\(n)")
        }
        var committed = false
        defer { if !committed { ImageStore.removeTree(staging) } }

        // Where sources come from: the context, another stage, or an image.
        var root = ctx.options.context
        var exclude: (String) -> Bool = { ctx.ignore.excludes($0) }
        var view: OverlayMount?
        if let from {
            let layers: [String]
            if let s = stages.first(where: { $0.name == from.lowercased() }) ?? Int(from).flatMap({ stages.indices.contains($0) ? stages[$0] : nil }) {
                layers = s.layers.map(\.digest)
            } else if let (_, image) = try storedImage(from, step: n) {
                layers = image.layers
            } else {
                throw BuildError("--from=\(from): no such stage or image", step: "\(n)")
            }
            let v = staging + "-from"
            mkdir(v, 0o755)
            mkdir(v + "/empty", 0o755)
            do {
                view = try OverlayMount(lowers: layers.reversed().map { store.layerPath($0) } + [v + "/empty"], upper: v + "/upper", work: v + "/work", target: v + "/root")
            } catch {
                throw BuildError("\(error)", step: "\(n)")
            }
            root = v + "/root"
            exclude = { _ in false }
        }
        defer {
            if let view {
                view.unmount()
                ImageStore.removeTree(staging + "-from")
            }
        }

        var matches: [String] = []
        var heredocFiles: [(String, String)] = []
        for src in words {
            if let doc = inst.heredocs.first(where: { src == "<<" + $0.name || src == "<<-" + $0.name || src.hasSuffix("<<\"\($0.name)\"") || src.hasSuffix("<<'\($0.name)'") || src.hasSuffix("<<-\"\($0.name)\"") }) {
                // An unquoted delimiter means the content is expanded, as BuildKit does.
                var content = doc.content
                if doc.expand { content = try expand(ctx.shell, doc.content.replacingOccurrences(of: "\"", with: "\\\""), env) }
                heredocFiles.append((doc.name, content))
                continue
            }
            if inst.name == "add" && (src.hasPrefix("http://") || src.hasPrefix("https://") || src.hasPrefix("git@")) {
                throw BuildError("ADD \(src): fetching URLs is not supported (berth builds offline); download it into the context and COPY it", step: "\(n)")
            }
            let found = Self.glob(root: root, pattern: DockerIgnore.clean(src), exclude: exclude)
            if found.isEmpty { throw BuildError("\(inst.name.uppercased()) \(src): no such file or directory in \(from ?? "the build context")", step: "\(n)") }
            matches += found
        }
        // Into a directory: `.`, a trailing `/` or `/.`, several sources, or a directory that exists.
        let intoDirectory = destText.hasSuffix("/") || destText == "." || destText.hasSuffix("/.")
            || matches.count + heredocFiles.count > 1 || isDirectory(dest, in: stage)
        let copier = TreeCopy(uid: uid, gid: gid, chmod: chmod, exclude: { rel in exclude(rel) })
        do {
            for m in matches {
                let full = m == "." ? root : root + "/" + m
                var st = stat()
                lstat(full, &st)
                let isDir = (st.st_mode & S_IFMT) == S_IFDIR
                if isDir {
                    // A directory's contents, not the directory itself.
                    try makeParents(staging, dest, stage: stage, includeLast: true)
                    var c = copier
                    let prefix = m == "." ? "" : m + "/"
                    c.exclude = { rel in exclude(prefix + rel) }
                    try c.copy(full, rel: "", to: staging + dest)
                } else if inst.name == "add" && Self.isArchive(full) {
                    try makeParents(staging, dest, stage: stage, includeLast: true)
                    guard ImageStore.run(["tar", "-xpf", full, "-C", staging + dest, "--no-same-owner"]) == 0 else {
                        throw StoreError("cannot extract \(m)")
                    }
                } else {
                    let target = intoDirectory ? dest + "/" + (m as NSString).lastPathComponent : dest
                    try makeParents(staging, target, stage: stage, includeLast: false)
                    try copier.copy(full, rel: "", to: staging + target)
                }
            }
            for (name, content) in heredocFiles {
                let target = intoDirectory ? dest + "/" + name : dest
                try makeParents(staging, target, stage: stage, includeLast: false)
                guard FileManager.default.createFile(atPath: staging + target, contents: Data(content.utf8)) else {
                    throw StoreError("cannot write the heredoc file \(target)")
                }
                lchown(staging + target, uid, gid)
                Glibc.chmod(staging + target, chmod ?? 0o644)
            }
        } catch {
            throw BuildError("\(error)", step: "\(n)")
        }
        let layer: (digest: String, size: Int)
        do { layer = try store.commitLayer(staging) } catch { throw BuildError("\(error)", step: "\(n)") }
        committed = true
        stage.layers.append(layer)
        stage.key = BuildCache.key([stage.key, inst.name, dest, "\(uid):\(gid)", chmod.map { String($0, radix: 8) } ?? "", layer.digest])
        stage.recordHistory(inst, emptyLayer: false)
        done(n, start)
    }

    /// Creates `path`'s parent directories in the staged layer, copying mode
    /// and owner from the layers below when a directory is already there (so
    /// a COPY into /tmp keeps /tmp 1777).
    /// Gives a new layer's root directory the mode and owner of `/` in the
    /// layers below (0755 root:root on an empty stage), as BuildKit does: a
    /// staging directory is 0700, and a layer's `/` decides the image's.
    func shapeLayerRoot(_ dir: String, like stage: BuildStage) throws(StoreError) {
        var mode: mode_t = 0o755, uid: uid_t = 0, gid: gid_t = 0
        var st = stat()
        if let below = stage.layers.last, lstat(store.layerPath(below.digest), &st) == 0 {
            (mode, uid, gid) = (st.st_mode & 0o7777, st.st_uid, st.st_gid)
        }
        if mkdir(dir, mode) != 0 && errno != EEXIST { throw StoreError("cannot create \(dir): \(String(cString: strerror(errno)))") }
        guard Glibc.chmod(dir, mode) == 0, lchown(dir, uid, gid) == 0 else {
            throw StoreError("cannot set the mode of \(dir): \(String(cString: strerror(errno)))")
        }
    }

    func makeParents(_ staging: String, _ path: String, stage: BuildStage, includeLast: Bool) throws(StoreError) {
        var parts = path.split(separator: "/").map(String.init)
        if !includeLast && !parts.isEmpty { parts.removeLast() }
        var cur = ""
        for p in parts {
            cur += "/" + p
            var st = stat()
            if lstat(staging + cur, &st) == 0 { continue }
            // 0755 whatever the umask, unless a lower layer has the directory.
            guard mkdir(staging + cur, 0o755) == 0, Glibc.chmod(staging + cur, 0o755) == 0 else { throw StoreError("cannot create \(cur)") }
            for layer in stage.layers.reversed() where lstat(store.layerPath(layer.digest) + cur, &st) == 0 {
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    Glibc.chmod(staging + cur, st.st_mode & 0o7777)
                    lchown(staging + cur, st.st_uid, st.st_gid)
                }
                break
            }
        }
    }

    /// Whether `path` is a directory in the stage's file system (the top-most
    /// layer that has it decides; a whiteout means it is gone).
    func isDirectory(_ path: String, in stage: BuildStage) -> Bool {
        var st = stat()
        for layer in stage.layers.reversed() where lstat(store.layerPath(layer.digest) + path, &st) == 0 {
            return (st.st_mode & S_IFMT) == S_IFDIR
        }
        return false
    }

    static func isArchive(_ path: String) -> Bool {
        [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst"].contains { path.hasSuffix($0) }
    }

    /// Paths under `root` matching `pattern` (segments with * ? [..]), minus excluded ones.
    static func glob(root: String, pattern: String, exclude: (String) -> Bool) -> [String] {
        if pattern == "." { return ["."] }
        var results = [""]
        for seg in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            let wild = seg.contains { "*?[\\".contains($0) }
            for base in results {
                let dir = base.isEmpty ? root : root + "/" + base
                if !wild {
                    let cand = base.isEmpty ? seg : base + "/" + seg
                    if access(root + "/" + cand, F_OK) == 0 || (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + cand)) != nil {
                        next.append(cand)
                    }
                    continue
                }
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                    where DockerIgnore.glob(Array(seg.unicodeScalars)[...], Array(name.unicodeScalars)[...]) {
                    next.append(base.isEmpty ? name : base + "/" + name)
                }
            }
            results = next
        }
        return results.filter { !exclude($0) }
    }

    // MARK: - WORKDIR

    /// Whether it added a layer (the directory was missing).
    func makeDirectoryLayer(_ dir: String, _ stage: inout BuildStage, key: String, n: Int) throws(BuildError) -> Bool {
        var st = stat()
        if stage.layers.reversed().contains(where: { lstat(store.layerPath($0.digest) + dir, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR }) || dir == "/" {
            return false
        }
        do {
            let staging = try store.stagingDirectory("workdir")
            try shapeLayerRoot(staging, like: stage)
            try makeParents(staging, dir, stage: stage, includeLast: true)
            stage.layers.append(try store.commitLayer(staging))
        } catch {
            throw BuildError("\(error)", step: "\(n)")
        }
        return true
    }
}

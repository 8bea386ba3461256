import BerthRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Builds images from Dockerfiles without a daemon: each step is looked up in
/// the cache by its key, else executed (RUN in runc on an overlay of the
/// parent layers, COPY/ADD into a staged directory), and its layer stored.
public final class Builder {
    let store: ImageStore
    let runc: Runc
    let cache: BuildCache
    let output: (String) -> Void
    var step = 0

    public init(store: ImageStore, runc: Runc? = nil, output: @escaping (String) -> Void) {
        self.store = store
        self.runc = runc ?? Runc(stateRoot: store.root + "/runc")
        self.cache = BuildCache(root: store.root)
        self.output = output
    }

    /// Builds, tags (if asked) and returns the image id.
    public func build(_ options: BuildOptions) throws(BuildError) -> String {
        let path = options.dockerfile ?? options.context + "/Dockerfile"
        guard let data = FileManager.default.contents(atPath: path) else { throw BuildError("cannot read \(path)") }
        let df: Dockerfile
        do {
            df = try DockerfileParser.parse(String(decoding: data, as: UTF8.self), file: path)
        } catch {
            throw BuildError("\(error)")
        }
        let ignore = DockerIgnore(FileManager.default.contents(atPath: options.context + "/.dockerignore")
            .map { String(decoding: $0, as: UTF8.self) } ?? "")
        let shell = ShellWord(escape: df.escape.unicodeScalars.first!)

        // ARGs before the first FROM feed FROM lines only.
        var globalArgs: [String: String] = [:]
        var stageInstructions: [[Instruction]] = []
        for inst in df.instructions {
            if inst.name == "from" {
                stageInstructions.append([inst])
            } else if stageInstructions.isEmpty {
                guard inst.name == "arg" else { throw BuildError("\(path):\(inst.startLine): \(inst.name.uppercased()) before the first FROM") }
                for word in inst.strings {
                    let (name, def) = Self.splitArg(word)
                if let v = options.buildArgs[name] {
                        globalArgs[name] = v
                    } else if let def {
                        globalArgs[name] = try expand(shell, def, globalArgs)
                    }
                }
            } else {
                stageInstructions[stageInstructions.count - 1].append(inst)
            }
        }
        guard !stageInstructions.isEmpty else { throw BuildError("\(path): no FROM instruction") }

        var stages: [BuildStage] = []
        var lastIndex = stageInstructions.count - 1
        if let target = options.target {
            guard let t = stageInstructions.firstIndex(where: { Self.stageName($0[0]) == target.lowercased() }) else {
                throw BuildError("target stage \(target) not found")
            }
            lastIndex = t
        }
        let ctx = Context(options: options, dockerfile: path, shell: shell, ignore: ignore, globalArgs: globalArgs)
        for (i, insts) in stageInstructions.enumerated() where i <= lastIndex {
            var stage = try from(insts[0], index: i, stages: stages, ctx: ctx, total: insts.count)
            for (n, inst) in insts.dropFirst().enumerated() {
                try execute(inst, in: &stage, stages: stages, ctx: ctx, label: "[\(stage.name ?? "stage-\(i)") \(n + 2)/\(insts.count)]")
            }
            stages.append(stage)
        }
        let final = stages[lastIndex]
        do {
            var config = final.config
            // Nothing changed (same layers, same runtime config as the tagged
            // image): keep that image and its id, as Docker does.
            if let tag = options.tag, let (oldID, old) = try store.resolve(tag),
               old.layers == final.layers.map(\.digest), old.config.config == config.config,
               old.config.architecture == config.architecture, old.config.os == config.os {
                output("writing image sha256:\(oldID) as \(ImageStore.normalize(tag)) (unchanged)")
                return oldID
            }
            config.created = ImageStore.timestamp()
            let id = try store.commitImage(config: config, layers: final.layers)
            if let tag = options.tag { try store.tag(tag, id) }
            output("writing image sha256:\(id)" + (options.tag.map { " as \(ImageStore.normalize($0))" } ?? ""))
            return id
        } catch {
            throw BuildError("\(error)")
        }
    }

    /// What every step of one build shares.
    struct Context {
        let options: BuildOptions
        /// The Dockerfile's path, for errors that name its lines.
        let dockerfile: String
        let shell: ShellWord
        let ignore: DockerIgnore
        let globalArgs: [String: String]
    }

    static func stageName(_ from: Instruction) -> String? {
        let s = from.strings
        if s.count == 3 && s[1].lowercased() == "as" { return s[2].lowercased() }
        return nil
    }

    static func splitArg(_ word: String) -> (String, String?) {
        guard let eq = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<eq]), String(word[word.index(after: eq)...]))
    }

    func expand(_ shell: ShellWord, _ word: String, _ env: [String: String]) throws(BuildError) -> String {
        do { return try shell.expandWord(word, env: env) } catch { throw BuildError("\(error)") }
    }

    /// `#N [stage i/n] INSTRUCTION` and the timing of what follows.
    func begin(_ label: String, _ inst: Instruction) -> (Int, DispatchTime) {
        step += 1
        let text = DockerfileWords.trimSpace(inst.original)
        output("#\(step) \(label) \(text.count > 120 ? String(text.prefix(117)) + "..." : text)")
        return (step, .now())
    }

    func done(_ n: Int, _ start: DispatchTime) {
        let s = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        output("#\(n) DONE \(String(format: "%.2f", s))s")
    }

    // MARK: - FROM

    func from(_ inst: Instruction, index: Int, stages: [BuildStage], ctx: Context, total: Int) throws(BuildError) -> BuildStage {
        let (n, start) = begin("[stage-\(index) 1/\(total)]", inst)
        for f in inst.flags where !(f == "--platform=linux/amd64" || f == "--platform=amd64") {
            throw BuildError("FROM \(f): only linux/amd64 is supported", step: "\(n)")
        }
        guard let ref = inst.strings.first else { throw BuildError("FROM needs an image", step: "\(n)") }
        let image = try expand(ctx.shell, ref, ctx.globalArgs)
        var stage = BuildStage(name: Self.stageName(inst), index: index, key: "")
        if image == "scratch" {
            stage.key = BuildCache.key(["scratch"])
        } else if let prior = stages.first(where: { $0.name == image.lowercased() }) ?? Int(image).flatMap({ stages.indices.contains($0) ? stages[$0] : nil }) {
            stage.layers = prior.layers
            stage.config = prior.config
            stage.key = prior.key
        } else if let (id, stored) = try storedImage(image, step: n) {
            let sizes = stored.layerSizes ?? stored.layers.map { _ in 0 }
            stage.layers = zip(stored.layers, sizes).map { ($0, $1) }
            stage.config = stored.config
            stage.config.history = ImageHistory.aligned(stored.config.history, layers: stored.layers.count)
            stage.key = BuildCache.key(["image", id])
            output("#\(n) using \(ImageStore.normalize(image)) sha256:\(id.prefix(12)) from the local store")
        } else {
            // Not stored: the registry, then (debian/ubuntu) a bootstrap.
            let id: String
            do {
                id = try ImagePull(store: store, insecure: ctx.options.insecureRegistries) { self.output("#\(n) \($0)") }.pull(image, ifMissing: true)
            } catch let pullError {
                let bootstrappable: Bool
                do {
                    bootstrappable = try BaseBootstrap.suite(of: image) != nil
                } catch {
                    throw BuildError("image \(image) is not in the local store and cannot be pulled (\(pullError)), nor bootstrapped: \(error)", step: "\(n)")
                }
                guard bootstrappable else {
                    throw BuildError("image \(image) is not in the local store and cannot be pulled: \(pullError)", step: "\(n)")
                }
                output("#\(n) registry pull failed (\(pullError)); bootstrapping instead")
                do {
                    id = try BaseBootstrap.bootstrap(image, store: store) { output("#\(n) \($0)") }
                } catch {
                    throw BuildError("\(error)", step: "\(n)")
                }
            }
            guard let stored = store.image(id) else { throw BuildError("image \(id) vanished", step: "\(n)") }
            stage.layers = zip(stored.layers, stored.layerSizes ?? stored.layers.map { _ in 0 }).map { ($0, $1) }
            stage.config = stored.config
            stage.config.history = ImageHistory.aligned(stored.config.history, layers: stored.layers.count)
            stage.key = BuildCache.key(["image", id])
        }
        done(n, start)
        // The base image's ONBUILD triggers run first, as if written here.
        let triggers = stage.config.config.OnBuild ?? []
        stage.config.config.OnBuild = nil
        for t in triggers {
            guard let parsed = try? DockerfileParser.parse(t), let trigger = parsed.instructions.first else {
                throw BuildError("cannot parse the ONBUILD trigger \(t)", step: "\(n)")
            }
            try execute(trigger, in: &stage, stages: stages, ctx: ctx, label: "[\(stage.name ?? "stage-\(index)") onbuild]")
        }
        return stage
    }
}

extension Builder {
    /// The stored image `ref` names, for step `n` (a store that cannot be
    /// read fails the step, naming the file).
    func storedImage(_ ref: String, step n: Int) throws(BuildError) -> (id: String, image: ImageStore.Image)? {
        do {
            return try store.resolve(ref)
        } catch {
            throw BuildError(error.description, step: "\(n)")
        }
    }
}

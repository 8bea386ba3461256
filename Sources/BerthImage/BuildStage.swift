/// The state of one build stage while its instructions run: its layers, the
/// image config it is building, the cache key chain, and its variables.
struct BuildStage {
    var name: String?
    var index: Int
    var layers: [(digest: String, size: Int)] = []
    var config = ImageConfig()
    /// The cache key of everything so far (base, then each instruction).
    var key: String
    /// ARGs declared in this stage, with their values (nil: declared, unset).
    var args: [(name: String, value: String?)] = []
    /// Whether CMD was set in this stage (else an ENTRYPOINT clears the inherited one).
    var cmdSetHere = false

    var shell: [String] { config.config.Shell ?? ["/bin/sh", "-c"] }
    var workdir: String { config.config.WorkingDir ?? "/" }

    /// ENV from the image config as a dictionary (later entries win).
    var env: [String: String] {
        var d: [String: String] = [:]
        for e in config.config.Env ?? [] {
            if let eq = e.firstIndex(of: "=") { d[String(e[..<eq])] = String(e[e.index(after: eq)...]) }
        }
        return d
    }

    /// What word expansion sees: ARGs, overridden by ENV.
    var expansionEnv: [String: String] {
        var d: [String: String] = [:]
        for a in args { if let v = a.value { d[a.name] = v } }
        for (k, v) in env { d[k] = v }
        return d
    }

    /// What a RUN process gets: ENV plus ARGs (ARGs are never stored in the image).
    var runEnv: [String] {
        var d = expansionEnv
        if d["PATH"] == nil { d["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
        return d.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// Appends the history entry of a step, as the classic builder wrote it:
    /// RUN as its command (`/bin/sh -c apt-get update`), every other step as
    /// `/bin/sh -c #(nop) ` and the instruction.
    mutating func recordHistory(_ inst: Instruction, command: [String]? = nil, emptyLayer: Bool) {
        let text = command.map { $0.joined(separator: " ") }
            ?? (shell + ["#(nop) " + DockerfileWords.trimSpace(inst.original)]).joined(separator: " ")
        let entry = ImageConfig.History(created: ImageStore.timestamp(), created_by: text,
                                        empty_layer: emptyLayer ? true : nil, comment: ImageHistory.builtComment)
        config.history = (config.history ?? []) + [entry]
    }

    mutating func setEnv(_ key: String, _ value: String) {
        var list = (config.config.Env ?? []).filter { !$0.hasPrefix(key + "=") }
        list.append("\(key)=\(value)")
        config.config.Env = list
    }
}

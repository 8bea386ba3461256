import BerthRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The instructions after FROM: metadata ones change the config and the key;
/// RUN, COPY, ADD and WORKDIR may add a layer.
extension Builder {
    func execute(_ inst: Instruction, in stage: inout BuildStage, stages: [BuildStage], ctx: Context, label: String) throws(BuildError) {
        let (n, start) = begin(label, inst)
        // One environment snapshot per instruction.
        let env = stage.expansionEnv
        func x(_ w: String) throws(BuildError) -> String { try expand(ctx.shell, w, env) }
        func xs(_ ws: [String]) throws(BuildError) -> [String] {
            var out: [String] = []
            for w in ws {
                do { out += try ctx.shell.expandWords(w, env: env) } catch { throw BuildError("\(error)", step: "\(n)") }
            }
            return out
        }
        func command(_ i: Instruction) -> [String] { i.isJSON ? i.strings : stage.shell + i.strings }
        var keyParts = [stage.key, inst.name]
        var addedLayer = false
        switch inst.name {
        case "run":
            try run(inst, &stage, stages: stages, ctx: ctx, n: n, start: start)
            return
        case "copy", "add":
            try copy(inst, &stage, stages: stages, ctx: ctx, env: env, n: n, start: start)
            return
        case "workdir":
            guard let w = inst.strings.first else { throw BuildError("WORKDIR needs a path", step: "\(n)") }
            let dir = Self.resolve(try x(w), against: stage.workdir)
            stage.config.config.WorkingDir = dir
            keyParts.append(dir)
            addedLayer = try makeDirectoryLayer(dir, &stage, key: BuildCache.key(keyParts), n: n)
        case "env":
            let s = inst.strings
            for i in stride(from: 0, to: s.count - 2, by: 3) {
                let k = try x(s[i]), v = try x(s[i + 1])
                stage.setEnv(k, v)
                keyParts += [k, v]
            }
        case "arg":
            for word in inst.strings {
                let (name, def) = Self.splitArg(word)
                var value = ctx.options.buildArgs[name]
                if value == nil, let def { value = try x(def) }
                if value == nil { value = ctx.globalArgs[name] }
                stage.args.removeAll { $0.name == name }
                stage.args.append((name, value))
                keyParts += [name, value ?? "\u{1}"]
            }
        case "label", "maintainer":
            var labels = stage.config.config.Labels ?? [:]
            if inst.name == "maintainer" {
                labels["maintainer"] = inst.strings.first ?? ""
            } else {
                let s = inst.strings
                for i in stride(from: 0, to: s.count - 2, by: 3) { labels[try x(s[i])] = try x(s[i + 1]) }
            }
            stage.config.config.Labels = labels
            keyParts.append("\(labels.sorted { $0.key < $1.key })")
        case "expose":
            var ports = stage.config.config.ExposedPorts ?? [:]
            for word in try xs(inst.strings) {
                guard let spec = ExposedPortSpec.parse(word) else {
                    throw BuildError("\(ctx.dockerfile):\(inst.startLine): invalid port '\(word)' in EXPOSE: "
                                     + "expected PORT, PORT/PROTO, START-END or START-END/PROTO (ports 0-65535, tcp, udp or sctp)")
                }
                for key in spec.keys { ports[key] = .init() }
            }
            stage.config.config.ExposedPorts = ports
            keyParts.append(ports.keys.sorted().joined(separator: ","))
        case "user":
            let u = try x(inst.strings.first ?? "")
            stage.config.config.User = u
            keyParts.append(u)
        case "volume":
            var vols = stage.config.config.Volumes ?? [:]
            var names: [String] = []
            if inst.isJSON {
                for v in inst.strings { names.append(try x(v)) }
            } else {
                names = try xs(inst.strings)
            }
            for v in names { vols[v] = .init() }
            stage.config.config.Volumes = vols
            keyParts.append(vols.keys.sorted().joined(separator: ","))
        case "stopsignal":
            let sig = try x(inst.strings.first ?? "")
            stage.config.config.StopSignal = sig
            keyParts.append(sig)
        case "shell":
            guard inst.isJSON, !inst.strings.isEmpty else { throw BuildError("SHELL needs the JSON form, like SHELL [\"/bin/bash\", \"-c\"]", step: "\(n)") }
            stage.config.config.Shell = inst.strings
            keyParts += inst.strings
        case "cmd":
            stage.config.config.Cmd = command(inst)
            stage.cmdSetHere = true
            keyParts += stage.config.config.Cmd!
        case "entrypoint":
            stage.config.config.Entrypoint = command(inst)
            // An ENTRYPOINT resets a CMD inherited from the base image.
            if !stage.cmdSetHere { stage.config.config.Cmd = nil }
            keyParts += stage.config.config.Entrypoint!
        case "healthcheck":
            stage.config.config.Healthcheck = try healthcheck(inst, shell: stage.shell, n: n)
            keyParts.append(inst.original)
        case "onbuild":
            let trigger = DockerfileWords.trimSpace(String(DockerfileWords.trimSpace(inst.original).dropFirst("onbuild".count)))
            stage.config.config.OnBuild = (stage.config.config.OnBuild ?? []) + [trigger]
            keyParts.append(trigger)
        default:
            throw BuildError("unknown instruction \(inst.name.uppercased())", step: "\(n)")
        }
        stage.key = BuildCache.key(keyParts)
        stage.recordHistory(inst, emptyLayer: !addedLayer)
        done(n, start)
    }

    static func resolve(_ path: String, against dir: String) -> String {
        let p = path.hasPrefix("/") ? path : (dir.hasSuffix("/") ? dir : dir + "/") + path
        // An absolute path: `..` stops at the root, as in the container.
        let parts = DockerIgnore.clean(p).split(separator: "/").drop { $0 == ".." }
        let clean = parts.joined(separator: "/")
        return clean == "." || clean.isEmpty ? "/" : "/" + clean
    }

    func healthcheck(_ inst: Instruction, shell: [String], n: Int) throws(BuildError) -> ImageConfig.Healthcheck {
        let s = inst.strings
        guard let kind = s.first?.uppercased() else { throw BuildError("HEALTHCHECK needs NONE or CMD", step: "\(n)") }
        var h = ImageConfig.Healthcheck()
        if kind == "NONE" {
            h.Test = ["NONE"]
            return h
        }
        guard kind == "CMD" else { throw BuildError("HEALTHCHECK: expected NONE or CMD, got \(kind)", step: "\(n)") }
        h.Test = inst.isJSON ? ["CMD"] + s.dropFirst() : ["CMD-SHELL", s.dropFirst().joined(separator: " ")]
        for f in inst.flags {
            let parts = f.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw BuildError("HEALTHCHECK: bad flag \(f)", step: "\(n)") }
            switch parts[0] {
            case "interval": h.Interval = try Self.nanoseconds(parts[1], n)
            case "timeout": h.Timeout = try Self.nanoseconds(parts[1], n)
            case "start-period": h.StartPeriod = try Self.nanoseconds(parts[1], n)
            case "retries":
                guard let r = Int(parts[1]) else { throw BuildError("HEALTHCHECK: bad retries \(parts[1])", step: "\(n)") }
                h.Retries = r
            default: throw BuildError("HEALTHCHECK: unknown flag \(f)", step: "\(n)")
            }
        }
        return h
    }

    /// Go durations as Docker writes them in HEALTHCHECK: 30s, 1m30s, 500ms.
    static func nanoseconds(_ text: String, _ n: Int) throws(BuildError) -> Int64 {
        var total: Double = 0
        var number = ""
        var rest = Substring(text)
        while let c = rest.first {
            if c.isNumber || c == "." { number.append(c); rest = rest.dropFirst(); continue }
            let unit = rest.prefix { !$0.isNumber && $0 != "." }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: throw BuildError("bad duration \(text)", step: "\(n)")
            }
            guard let v = Double(number) else { throw BuildError("bad duration \(text)", step: "\(n)") }
            total += v * scale
            number = ""
        }
        guard number.isEmpty, !text.isEmpty else { throw BuildError("bad duration \(text)", step: "\(n)") }
        return Int64(total)
    }
}

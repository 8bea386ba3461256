import BerthRuntime

extension ImageStore {
    /// `uid[:gid]` or user and group names looked up in the top-most
    /// /etc/passwd and /etc/group among `layers` (top-most last).
    public func userIDs(_ spec: String, layers: [String]) throws(StoreError) -> (UInt32, UInt32) {
        if spec.isEmpty { return (0, 0) }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        func lookup(_ name: String, _ file: String) throws(StoreError) -> (UInt32, UInt32?) {
            if let v = UInt32(name) { return (v, nil) }
            for layer in layers.reversed() {
                guard let text = try? String(contentsOfFile: layerPath(layer) + file, encoding: .utf8) else { continue }
                for line in text.split(separator: "\n") {
                    let f = line.split(separator: ":", omittingEmptySubsequences: false)
                    if f.count > 3 && f[0] == name, let id = UInt32(f[2]) { return (id, UInt32(f[3])) }
                }
                break
            }
            throw StoreError("no such user or group '\(name)' in \(file)")
        }
        let (uid, primary) = try lookup(parts[0], "/etc/passwd")
        if parts.count == 2 { return (uid, try lookup(parts[1], "/etc/group").0) }
        return (uid, primary ?? uid)
    }

    /// What a container of `image` runs: ENTRYPOINT + (the command given, else
    /// CMD), the image's ENV with `env` on top, its WORKDIR and USER.
    public func process(for image: Image, command: [String], env extra: [String]) throws(StoreError) -> Container.Process {
        let c = image.config.config
        let args = (c.Entrypoint ?? []) + (command.isEmpty ? (c.Cmd ?? []) : command)
        guard !args.isEmpty else { throw StoreError("the image has no ENTRYPOINT or CMD and no command was given") }
        var env: [String] = []
        var seen = Set<String>()
        for e in (extra.reversed() + (c.Env ?? []).reversed()) {
            let key = String(e.prefix { $0 != "=" })
            if seen.insert(key).inserted { env.insert(e, at: 0) }
        }
        if !seen.contains("PATH") { env.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") }
        let (uid, gid) = try userIDs(c.User ?? "", layers: image.layers)
        return Container.Process(args: args, env: env, cwd: c.WorkingDir ?? "/", uid: uid, gid: gid,
                                 stopSignal: ContainerSignal(stopSignal: c.StopSignal))
    }
}

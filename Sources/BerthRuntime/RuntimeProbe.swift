import Foundation

/// Whether an OCI runtime can start a container on this host: crun, for one,
/// refuses cgroup v1/v2 hybrid layouts. Runs `/bin/sh -c 'exit 0'` (the
/// host's static busybox) in a throwaway bundle with the same namespaces
/// app containers get.
public enum RuntimeProbe {
    /// `(works, why not)`.
    public static func check(_ binary: String, scratch: String) -> (Bool, String) {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            return (false, "cannot probe it: /bin/busybox (busybox-static) is missing")
        }
        let dir = scratch + "/probe-\(binary)-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try FileManager.default.createDirectory(atPath: dir + "/rootfs/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir + "/rootfs/bin/sh")
            let spec = OCISpec(rootfs: dir + "/rootfs", args: ["/bin/sh", "-c", "exit 0"], env: ["PATH=/bin"], cwd: "/",
                               hostname: "probe", hostNetwork: false)
            try spec.write(to: dir)
        } catch {
            return (false, "cannot prepare a probe bundle: \(error)")
        }
        var lines: [String] = []
        let status: Int32
        do {
            status = try Runc(binary: binary, stateRoot: dir + "/state").run(bundle: dir, id: "probe-\(getpid())") { lines.append($0) }
        } catch {
            return (false, "\(error)")
        }
        return status == 0 ? (true, "") : (false, lines.suffix(2).joined(separator: "; ").isEmpty ? "exit status \(status)" : lines.suffix(2).joined(separator: "; "))
    }
}

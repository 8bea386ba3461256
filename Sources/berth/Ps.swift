import ArgumentParser
import BerthConfig
import BerthHost
import Foundation

/// `berth ps`: the running serve's replicas, as `docker ps` lists containers.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the running serve's app replicas: state, health, uptime, restarts.")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var pid: PidFileOption

    func run() throws {
        let files = RuntimeFiles(options: options, config: try? Config.load(path: options.configPath), pidFile: pid.pidFile)
        _ = try files.runningServe()
        let all: [ReplicaStatus]
        do {
            all = try ReplicaStatus.read(files.psFile) ?? []
        } catch {
            printError("berth: \(error)")
            throw ExitCode(1)
        }
        let now = Date().timeIntervalSince1970
        var rows = [["APP", "REPLICA", "CONTAINER", "IMAGE", "STATE", "HEALTH", "UPTIME", "RESTARTS", "VERSION"]]
        for r in all {
            rows.append([r.app, "\(r.replica)", r.container, r.image.isEmpty ? "-" : r.image, r.state.rawValue, r.health.rawValue,
                         r.since.map { Self.duration(now - $0) } ?? "-", "\(r.restarts)", r.version.rawValue])
        }
        printTable(rows, gap: "  ")
    }

    /// `42s`, `5m3s`, `2h10m`, `3d4h`.
    static func duration(_ s: Double) -> String {
        let t = Int(max(0, s))
        if t < 60 { return "\(t)s" }
        if t < 3600 { return "\(t / 60)m\(t % 60)s" }
        if t < 86400 { return "\(t / 3600)h\(t % 3600 / 60)m" }
        return "\(t / 86400)d\(t % 86400 / 3600)h"
    }
}

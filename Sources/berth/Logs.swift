import ArgumentParser
import BerthConfig
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth logs APP`: the app's container output (every replica, merged by
/// time), like `docker compose logs`; `-f` follows it.
struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an app's container logs (all replicas, timestamped); -f follows them.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The app name (as in proxy.conf).")
    var app: String

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written.")
    var follow = false

    @Option(name: .long, help: "Only the last N lines (of all replicas together).")
    var tail: Int?

    func run() throws {
        let dir = options.resolvedStateDir + "/logs"
        var files = Self.logFiles(in: dir, app: app)
        // An app of the config that has printed nothing yet has no log: that
        // is no lines, not an error. An app the config doesn't have is one.
        if files.isEmpty {
            let config: Config
            do {
                config = try Config.load(path: options.configPath)
            } catch {
                printError("berth: no logs for app '\(app)' in \(dir), and no config to look it up in: \(error)")
                throw ExitCode(1)
            }
            guard config.apps.contains(where: { $0.name == app }) else {
                let names = config.apps.map(\.name).sorted().joined(separator: ", ")
                printError("berth: no app '\(app)' in \(config.file) (apps: \(names.isEmpty ? "none" : names))")
                throw ExitCode(1)
            }
        }
        var prefix = files.count > 1
        var lines: [(String, String)] = []  // (line, replica)
        var offsets: [String: Int] = [:]
        for f in files {
            let name = String(f.dropLast(4))
            let rotated = (FileManager.default.contents(atPath: dir + "/" + f + ".1") ?? Data())
            let current = FileManager.default.contents(atPath: dir + "/" + f) ?? Data()
            offsets[f] = current.count
            for data in [rotated, current] {
                for l in String(decoding: data, as: UTF8.self).split(separator: "\n") { lines.append((String(l), name)) }
            }
        }
        // Each line starts with an ISO-8601 UTC timestamp: text order is time order.
        lines.sort { $0.0 < $1.0 }
        if let tail { lines = Array(lines.suffix(max(0, tail))) }
        for (l, name) in lines { printOut(prefix ? "\(name) | \(l)" : l) }
        guard follow else { return }
        while true {
            usleep(200_000)
            // Replicas that start logging later are followed from their first line.
            let now = Self.logFiles(in: dir, app: app)
            if now != files {
                for f in now where offsets[f] == nil { offsets[f] = 0 }
                files = now
                prefix = prefix || files.count > 1
            }
            for f in files {
                let path = dir + "/" + f
                var st = stat()
                guard stat(path, &st) == 0 else { continue }
                var from = offsets[f] ?? 0
                if Int(st.st_size) < from { from = 0 }  // rotated
                guard Int(st.st_size) > from, let h = FileHandle(forReadingAtPath: path) else { continue }
                h.seek(toFileOffset: UInt64(from))
                let data = h.readDataToEndOfFile()
                h.closeFile()
                // Only whole lines; a partial one waits for its newline.
                guard let lastNL = data.lastIndex(of: 0x0A) else { continue }
                offsets[f] = from + lastNL + 1
                let name = String(f.dropLast(4))
                for l in String(decoding: data[..<lastNL], as: UTF8.self).split(separator: "\n") {
                    printOut(prefix ? "\(name) | \(l)" : String(l))
                }
            }
        }
    }

    /// The app's current log files (`APP-N.log`), sorted.
    static func logFiles(in dir: String, app: String) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            return []  // no log directory yet: nothing has logged
        }
        return names.filter { replica(of: $0, app: app) != nil && $0.hasSuffix(".log") }.sorted()
    }

    /// `web-2.log` → 2 for app `web`.
    static func replica(of file: String, app: String) -> Int? {
        guard file.hasPrefix(app + "-") else { return nil }
        return Int(file.dropFirst(app.count + 1).prefix { $0.isNumber })
    }
}

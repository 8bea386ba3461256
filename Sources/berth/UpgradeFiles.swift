import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `berth upgrade`'s request to the running serve (which binary), and the
/// serve's answer, as JSON files beside the pid file: the request is read
/// (and removed) on SIGUSR2; the answer carries the request's id.
struct UpgradeRequest: Codable {
    var id: String
    var binary: String?

    static func path(_ files: RuntimeFiles) -> String { files.dir + "/upgrade.request" }
}

/// How an upgrade ended: the new serve's pid, or why the old one goes on.
struct UpgradeOutcome: Codable {
    var id: String?
    var ok: Bool
    var pid: Int32?
    var message: String
    /// From SIGUSR2 to the new serve accepting.
    var seconds: Double

    static func path(_ files: RuntimeFiles) -> String { files.dir + "/upgrade.status" }
}

/// Writes `value` as JSON to `path` through a renamed temporary file.
func writeJSONAtomically<T: Encodable>(_ value: T, to path: String) throws {
    let data = try JSONEncoder().encode(value)
    try data.write(to: URL(fileURLWithPath: path + ".tmp"))
    guard rename(path + ".tmp", path) == 0 else {
        throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
}

func readJSON<T: Decodable>(_ type: T.Type, from path: String) -> T? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(type, from: data)
}

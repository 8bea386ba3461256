#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The outcome of the last SIGHUP, written by serve for `berth reload` to
/// read: a sequence number, the result, the generation, and the error if any.
struct ReloadStatus: Equatable {
    var sequence: Int
    var applied: Bool
    var generation: Int
    var message: String
    /// Applied, but some app's new version failed and was rolled back.
    var partial = false

    var text: String {
        "sequence=\(sequence)\nresult=\(partial ? "partial" : applied ? "applied" : "rejected")\ngeneration=\(generation)\nmessage=\(message.replacingNewlines)\n"
    }

    /// Written to a temporary file and renamed, so a reader never sees half
    /// of it; throws (the old file left in place) when any step fails.
    func write(to path: String) throws(StatusWriteError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StatusWriteError(path: tmp, code: errno) }
        var t = text
        let n = t.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        let writeErr = n == t.utf8.count ? 0 : (n < 0 ? errno : ENOSPC)
        let closeErr = close(fd) == 0 ? 0 : errno
        if writeErr != 0 || closeErr != 0 {
            unlink(tmp)
            throw StatusWriteError(path: tmp, code: writeErr != 0 ? writeErr : closeErr)
        }
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw StatusWriteError(path: path, code: code)
        }
    }

    static func read(_ path: String) -> ReloadStatus? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: buf[0..<n], as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard let seq = fields["sequence"].flatMap({ Int($0) }) else { return nil }
        return ReloadStatus(sequence: seq, applied: fields["result"] == "applied" || fields["result"] == "partial",
                            generation: fields["generation"].flatMap { Int($0) } ?? 0,
                            message: (fields["message"] ?? "").replacingOccurrences(of: "\\n", with: "\n"),
                            partial: fields["result"] == "partial")
    }
}

/// A status file serve could not write, with the system's error number.
struct StatusWriteError: Error, CustomStringConvertible {
    let path: String
    let code: Int32
    var description: String { "\(path): \(String(cString: strerror(code)))" }
}

extension String {
    var replacingNewlines: String { replacingOccurrences(of: "\n", with: "\\n") }
}

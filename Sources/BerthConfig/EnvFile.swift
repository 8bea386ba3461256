import Foundation

/// An `env-file`: `KEY=VALUE` lines, `#` comments and blank lines, as
/// Docker's `--env-file` reads them (the value is the rest of the line, not
/// unquoted). Errors name file:line and never quote a value.
enum EnvFile {
    static func read(_ path: String, at location: SourceLocation) throws(ConfigError) -> [EnvVar] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(location, "env-file: cannot read \(path)")
        }
        var out: [EnvVar] = []
        for (i, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let here = SourceLocation(file: path, line: i + 1, column: 1)
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw ConfigError(here, "env-file: expected KEY=VALUE (no '=' on this line)")
            }
            let key = String(trimmed[..<eq])
            guard !key.isEmpty, key.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "=") }) else {
                throw ConfigError(here, "env-file: expected a variable name before '='")
            }
            out.append(EnvVar(key: key, value: String(trimmed[trimmed.index(after: eq)...])))
        }
        return out
    }
}

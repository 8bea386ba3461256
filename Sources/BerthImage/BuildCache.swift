import Foundation

/// The build cache: a step's key (parent key + expanded instruction + the
/// variables in effect + content of what it copies) → the layer it made.
/// Entries are files under STATE/cache, written by rename.
struct BuildCache {
    let dir: String

    init(root: String) {
        dir = root + "/cache"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    struct Entry: Codable {
        var layer: String
        var size: Int
    }

    static func key(_ parts: [String]) -> String {
        SHA256.hex(parts.joined(separator: "\u{0}"))
    }

    func lookup(_ key: String, store: ImageStore) -> Entry? {
        guard let data = FileManager.default.contents(atPath: "\(dir)/\(key)"),
              let e = try? JSONDecoder().decode(Entry.self, from: data),
              FileManager.default.fileExists(atPath: store.layerPath(e.layer)) else { return nil }
        return e
    }

    func save(_ key: String, _ entry: Entry) {
        guard let data = try? JSONEncoder().encode(entry) else { return }
        try? ImageStore.writeAtomically(data, to: "\(dir)/\(key)")
    }
}

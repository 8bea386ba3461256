import ArgumentParser
import BerthImage
import Foundation

/// `berth images`: name, tag, id, size, created.
struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List images.")
    @OptionGroup var options: ConfigOptions

    func run() throws {
        let store = try options.openStore()
        var rows = [["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "CREATED"]]
        for (ref, id) in try store.tags().sorted(by: { $0.key < $1.key }) {
            guard let image = store.image(id) else { continue }
            let colon = ref.lastIndex(of: ":")!
            rows.append([String(ref[..<colon]), String(ref[ref.index(after: colon)...]), String(id.prefix(12)),
                         Self.size(image.size), image.created])
        }
        printTable(rows, gap: "   ")
    }

    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return String(format: "%.2fGB", Double(bytes) / Double(1 << 30)) }
        if bytes >= 1 << 20 { return String(format: "%.1fMB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return String(format: "%.1fkB", Double(bytes) / Double(1 << 10)) }
        return "\(bytes)B"
    }
}

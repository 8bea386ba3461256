import ArgumentParser
import BerthImage
import Foundation

/// `berth history IMAGE`: the steps behind an image, newest first, with
/// `docker history`'s columns.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the steps an image was built from, newest first (docker history's columns).")
    @OptionGroup var options: ConfigOptions
    @Flag(name: .customLong("no-trunc"), help: "Show full ids and commands.") var noTrunc = false
    @Option(help: "'table' (default) or 'json' (one object per line, as docker history --format json).") var format = "table"
    @Argument(help: "NAME[:TAG] or image id.") var name: String

    func run() throws {
        guard format == "table" || format == "json" else {
            printError("berth: --format: expected 'table' or 'json', got '\(format)'")
            throw ExitCode(2)
        }
        let store = try options.openStore()
        guard let (id, image) = try cli({ () throws(StoreError) in try store.resolve(name) }) else {
            printError("berth: no such image: \(name)")
            throw ExitCode(1)
        }
        let sizes = image.layerSizes
        let history = ImageHistory(imageID: id, image: image) { i in
            if let sizes, i < sizes.count { return sizes[i] }
            return (try? LayerDigest.compute(store.layerPath(image.layers[i])).size) ?? 0
        }
        var table = [["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]]
        for row in history.rows {
            let shownID = row.id.map { noTrunc ? "sha256:" + $0 : String($0.prefix(12)) } ?? "<missing>"
            let since = row.created.flatMap { DockerUnits.ago($0) } ?? "N/A"
            var by = row.createdBy.replacingOccurrences(of: "\t", with: " ")
            if !noTrunc && by.count > 45 { by = String(by.prefix(44)) + "…" }
            if !noTrunc { by = by.replacingOccurrences(of: "\n", with: " ") }
            let size = DockerUnits.size(row.size)
            if format == "json" {
                let object: [String: String] = ["ID": shownID, "CreatedAt": row.created ?? "", "CreatedSince": since,
                                                "CreatedBy": by, "Size": size, "Comment": row.comment]
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                printOut(String(decoding: try e.encode(object), as: UTF8.self))
            } else {
                table.append([shownID, since, by, size, row.comment])
            }
        }
        if format == "table" { printTable(table, gap: "   ") }
    }
}

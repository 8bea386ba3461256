/// Prints `rows` (the first is the header) in left-aligned columns, as
/// `docker images` / `docker ps` do; trailing blanks trimmed.
func printTable(_ rows: [[String]], gap: String) {
    guard let first = rows.first else { return }
    let widths = first.indices.map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    for row in rows {
        var line = ""
        for (c, cell) in row.enumerated() {
            if c > 0 { line += gap }
            line += cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }
        while line.last == " " { line.removeLast() }
        printOut(line)
    }
}

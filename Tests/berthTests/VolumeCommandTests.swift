import Testing
import Foundation

/// `berth volume`: ls, inspect, export, rm, import, as an operator runs them.
@Suite struct VolumeCommandTests {
    @Test func importListInspectExportRemove() throws {
        let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: dir + "/files/sub", withIntermediateDirectories: true)
        try "row 1\nrow 2\n".write(toFile: dir + "/files/sub/table", atomically: true, encoding: .utf8)
        #expect(try shell("tar -C \(dir)/files -cf \(dir)/in.tar .").0 == 0)
        let (s1, out1, e1) = try runBerth(["volume", "import", "pgdata", dir + "/in.tar", "--state-dir", state])
        #expect(s1 == 0 && out1 == "imported pgdata\n", "\(e1)")
        let (_, ls, _) = try runBerth(["volume", "ls", "--state-dir", state])
        #expect(ls.hasPrefix("VOLUME NAME") && ls.contains("pgdata") && ls.contains("12B") && ls.contains("no"), "\(ls)")
        let (_, inspect, _) = try runBerth(["volume", "inspect", "pgdata", "--state-dir", state])
        let j = try JSONSerialization.jsonObject(with: Data(inspect.utf8)) as? [String: String]
        #expect(j?["Mountpoint"] == state + "/volumes/pgdata" && j?["InUse"] == "false")
        #expect(try runBerth(["volume", "export", "pgdata", "-o", dir + "/out.tar", "--state-dir", state]).0 == 0)
        #expect(try shell("tar -tf \(dir)/out.tar | grep -c sub/table").1.hasPrefix("1"))
        #expect(try runBerth(["prune", "--state-dir", state]).0 == 0)
        #expect(FileManager.default.fileExists(atPath: state + "/volumes/pgdata/sub/table"), "prune never touches volumes")
        let (again, _, againErr) = try runBerth(["volume", "import", "pgdata", dir + "/out.tar", "--state-dir", state])
        #expect(again == 1 && againErr.contains("volume pgdata is not empty"))
        #expect(try runBerth(["volume", "rm", "pgdata", "--state-dir", state]).0 == 0)
        let (gone, _, goneErr) = try runBerth(["volume", "inspect", "pgdata", "--state-dir", state])
        #expect(gone == 1 && goneErr.contains("no such volume: pgdata"))
        #expect(try runBerth(["volume", "import", "pgdata", dir + "/out.tar", "--state-dir", state]).0 == 0)
        #expect(try String(contentsOfFile: state + "/volumes/pgdata/sub/table", encoding: .utf8) == "row 1\nrow 2\n")
    }
}

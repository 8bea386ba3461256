import Testing
import Foundation

/// `berth history`: one row per step, newest first, with docker history's
/// columns; a rebuild that changes only the last step keeps every id below it.
@Suite struct HistoryCommandTests {
    @Test func threeStepsThreeRowsAndRebuildReusesTheRowsBelow() throws {
        let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
        try String(repeating: "x", count: 1234).write(toFile: dir + "/ctx/a.txt", atomically: true, encoding: .utf8)
        func build(_ last: String) throws {
            try "FROM scratch\nCOPY a.txt /a.txt\nENV MODE=prod\n\(last)\n".write(toFile: dir + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
            let (s, _, e) = try runBerth(["build", dir + "/ctx", "-t", "steps:1", "--state-dir", state])
            #expect(s == 0, "\(e)")
        }
        try build("ENTRYPOINT [\"/www/app\"]")
        let (s, out, err) = try runBerth(["history", "steps:1", "--state-dir", state])
        #expect(s == 0, "\(err)")
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(out)")
        #expect(lines[0].hasPrefix("IMAGE ") && lines[0].contains("CREATED BY") && lines[0].contains("SIZE") && lines[0].contains("COMMENT"))
        #expect(lines[1].contains("/bin/sh -c #(nop) ENTRYPOINT [\"/www/app\"]") && lines[1].contains("   0B"), "\(lines[1])")
        #expect(lines[2].contains("/bin/sh -c #(nop) ENV MODE=prod") && lines[2].contains("   0B"), "\(lines[2])")
        #expect(lines[3].contains("/bin/sh -c #(nop) COPY a.txt /a.txt") && lines[3].contains("1.234kB"), "\(lines[3])")
        #expect(lines[1].contains(" second ago") || lines[1].contains(" seconds ago") || lines[1].contains("Less than a second ago") || lines[1].contains("About a minute ago"), "\(lines[1])")
        #expect(lines.dropFirst().allSatisfy { $0.contains("berth.dockerfile.v0") })
        let (_, idOut, _) = try runBerth(["images", "--state-dir", state])
        let imageID = idOut.split(separator: "\n").first { $0.hasPrefix("steps") }.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[2]) }
        #expect(imageID != nil && lines[1].hasPrefix(imageID!), "\(idOut)")

        let json = try runBerth(["history", "--format", "json", "--no-trunc", "steps:1", "--state-dir", state]).1
        let objects = try json.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: String] }
        #expect(objects.count == 3 && objects.allSatisfy { $0["ID"]!.hasPrefix("sha256:") && $0["ID"]!.count == 71 })
        #expect(objects.map { $0["Size"]! } == ["0B", "0B", "1.234kB"])
        #expect(Set(objects.flatMap(\.keys)) == ["ID", "CreatedAt", "CreatedSince", "CreatedBy", "Size", "Comment"])

        try build("ENTRYPOINT [\"/www/other\"]")
        let again = try runBerth(["history", "--format", "json", "--no-trunc", "steps:1", "--state-dir", state]).1
        let ids = try again.split(separator: "\n").map { (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: String])["ID"]! }
        #expect(ids[0] != objects[0]["ID"], "the changed step is a new image")
        #expect(Array(ids[1...]) == objects[1...].map { $0["ID"]! }, "every step below it is reused")

        let (bad, _, badErr) = try runBerth(["history", "nope:1", "--state-dir", state])
        #expect(bad == 1 && badErr.contains("no such image: nope:1"))
    }

    @Test func stepsOfABaseItDidNotBuildAreMissing() throws {
        let dir = URL(fileURLWithPath: try writeTemp("x", name: "marker")).deletingLastPathComponent().path
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: dir + "/rootfs/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir + "/rootfs/bin/busybox")
        #expect(try shell("tar -C \(dir)/rootfs -cf \(dir)/base.tar .").0 == 0)
        #expect(try runBerth(["image", "import", dir + "/base.tar", "base", "--state-dir", state]).0 == 0)
        try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
        try "FROM base\nCMD [\"/bin/busybox\", \"true\"]\n".write(toFile: dir + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        #expect(try runBerth(["build", dir + "/ctx", "-t", "derived", "--state-dir", state]).0 == 0)
        let out = try runBerth(["history", "derived", "--state-dir", state]).1
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(out)")
        #expect(lines[2].hasPrefix("<missing>") && lines[2].contains("berth image import") && lines[2].contains("MB"), "\(out)")
    }
}

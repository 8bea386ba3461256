import Testing
import Foundation
@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Named volumes and host mounts, through real runc containers.
@Suite(.serialized) struct VolumeStoreTests {
    func run(_ script: String, mounts: [ContainerMount], volumes: VolumeStore, image lower: String) throws -> (Int32, [String]) {
        let id = "berth-vol-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let c = try Container(id: id, dir: lower + "-c-\(id)", layers: [lower],
                              process: .init(args: ["/bin/sh", "-c", script], env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0),
                              hostname: "v", network: .isolated, mounts: mounts, volumes: volumes, runc: Runc(stateRoot: lower + "-runc"))
        defer { c.remove() }
        let lines = Lines()
        let status = try c.runc.run(bundle: c.dir + "/bundle", id: c.id) { lines.add($0) }
        return (status, lines.all)
    }

    @Test func aVolumeIsSeededOnceAndOutlivesItsContainers() throws {
        let lower = try busyboxRootfs()
        try FileManager.default.createDirectory(atPath: lower + "/data", withIntermediateDirectories: true)
        try "from the image\n".write(toFile: lower + "/data/seed.txt", atomically: true, encoding: .utf8)
        chmod(lower + "/data", 0o700)
        let volumes = VolumeStore(root: lower + "-volumes")
        let m = [ContainerMount(source: .volume("appdata"), target: "/data")]
        let (s1, out1) = try run("cat /data/seed.txt; echo one > /data/count", mounts: m, volumes: volumes, image: lower)
        #expect(s1 == 0 && out1 == ["from the image"], "\(out1)")
        var st = stat()
        #expect(stat(volumes.path("appdata"), &st) == 0 && st.st_mode & 0o7777 == 0o700, "the mount point's mode is seeded too")
        // A new container (a redeploy): the data is there, and the seed does not come back.
        try "changed in the image\n".write(toFile: lower + "/data/seed.txt", atomically: true, encoding: .utf8)
        let (s2, out2) = try run("cat /data/count; rm /data/seed.txt", mounts: m, volumes: volumes, image: lower)
        #expect(s2 == 0 && out2 == ["one"], "\(out2)")
        let (_, out3) = try run("ls /data", mounts: m, volumes: volumes, image: lower)
        #expect(out3 == ["count"], "an emptied seed file is not re-seeded while the volume has files: \(out3)")
        #expect(try volumes.names() == ["appdata"])
        #expect(try !volumes.inUse("appdata"))
    }

    @Test func rmRefusesWhileAContainerHoldsTheVolume() throws {
        let lower = try busyboxRootfs()
        try FileManager.default.createDirectory(atPath: lower + "/srv", withIntermediateDirectories: true)
        let volumes = VolumeStore(root: lower + "-volumes")
        let id = "berth-vol-held-\(getpid())"
        let c = try Container(id: id, dir: lower + "-c-held", layers: [lower],
                              process: .init(args: ["/bin/sh", "-c", "exit 0"], env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0),
                              hostname: "v", network: .isolated, mounts: [ContainerMount(source: .volume("held"), target: "/srv")],
                              volumes: volumes, runc: Runc(stateRoot: lower + "-runc"))
        #expect(try volumes.inUse("held"))
        #expect(throws: RuntimeError.self) { try volumes.remove("held") }
        c.remove()
        try volumes.remove("held")
        #expect(!volumes.exists("held"))
    }

    @Test func exportThenImportGivesTheSameFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-vols-\(UUID().uuidString)").path
        let volumes = VolumeStore(root: root)
        let dir = try volumes.create("v1")
        try "payload\n".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        chown(dir + "/a.txt", 999, 998)
        try volumes.export("v1", to: root + "/v1.tar")
        try volumes.remove("v1")
        try volumes.importTar("v1", from: root + "/v1.tar")
        var st = stat()
        #expect(try String(contentsOfFile: volumes.path("v1") + "/a.txt", encoding: .utf8) == "payload\n")
        #expect(stat(volumes.path("v1") + "/a.txt", &st) == 0 && st.st_uid == 999 && st.st_gid == 998)
        #expect(throws: RuntimeError.self) { try volumes.importTar("v1", from: root + "/v1.tar") }  // not empty
        #expect(throws: RuntimeError.self) { try volumes.create("../escape") }
    }

    @Test func aHostMountReadOnlyCannotBeWritten() throws {
        let lower = try busyboxRootfs()
        try FileManager.default.createDirectory(atPath: lower + "/static", withIntermediateDirectories: true)
        let host = FileManager.default.temporaryDirectory.appendingPathComponent("berth-hostdir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        try "index\n".write(toFile: host + "/index.html", atomically: true, encoding: .utf8)
        let volumes = VolumeStore(root: lower + "-volumes")
        let (s, out) = try run("cat /static/index.html; (echo x > /static/new) 2>&1 && echo wrote || echo refused",
                               mounts: [ContainerMount(source: .host(host), target: "/static", readOnly: true)], volumes: volumes, image: lower)
        #expect(s == 0 && out == ["index", "/bin/sh: can't create /static/new: Read-only file system", "refused"], "\(out)")
        let (_, rw) = try run("echo x > /static/new && echo wrote", mounts: [ContainerMount(source: .host(host), target: "/static")], volumes: volumes, image: lower)
        #expect(rw == ["wrote"] && FileManager.default.fileExists(atPath: host + "/new"))
    }
}

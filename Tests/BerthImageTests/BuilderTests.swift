import Testing
import Foundation
import Synchronization
@testable import BerthImage

#if canImport(Glibc)
import Glibc
#endif

/// A store with `busybox:latest` imported from Debian's busybox-static.
func storeWithBusybox() throws -> ImageStore {
    let root = tempDir("rootfs")
    try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
    chmod(root + "/tmp", 0o1777)
    try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
    for tool in ["sh", "echo", "cat", "rm", "ls", "mkdir", "id", "stat", "sleep", "true", "false"] {
        try FileManager.default.createSymbolicLink(atPath: root + "/bin/\(tool)", withDestinationPath: "busybox")
    }
    write(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    write(root + "/etc/group", "root:x:0:\napp:x:1000:\n")
    write(root + "/etc/doomed", "to be deleted\n")
    let tar = tempDir("tar") + "/busybox.tar"
    _ = ImageStore.run(["tar", "-C", root, "-cf", tar, "."])
    let store = try ImageStore(root: tempDir("store"))
    _ = try store.importTarball(tar, as: "busybox")
    return store
}

final class Log {
    var lines: [String] = []
}

/// Builds `dockerfile` in a fresh context holding `files`.
func build(_ store: ImageStore, _ dockerfile: String, files: [String: String] = [:], context: String? = nil,
           args: [String: String] = [:], noCache: Bool = false, tag: String? = nil, target: String? = nil) throws -> (String, [String], String) {
    let ctx = context ?? tempDir("ctx")
    write(ctx + "/Dockerfile", dockerfile)
    for (path, text) in files {
        try FileManager.default.createDirectory(atPath: (ctx + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        write(ctx + "/" + path, text)
    }
    var opts = BuildOptions(context: ctx)
    opts.buildArgs = args
    opts.noCache = noCache
    opts.tag = tag
    opts.target = target
    let log = Log()
    let id = try Builder(store: store, output: { log.lines.append($0) }).build(opts)
    return (id, log.lines, ctx)
}

/// Whether a RUN printed `marker` (output lines are `#N SECONDS text`).
func ran(_ lines: [String], _ marker: String) -> Bool {
    lines.contains { line in
        let parts = line.split(separator: " ", maxSplits: 2)
        return parts.count == 3 && Double(parts[1]) != nil && parts[2] == marker
    }
}

/// The file at `path` in the image's top-most layer that has it.
func fileInImage(_ store: ImageStore, _ id: String, _ path: String) -> String? {
    for l in store.image(id)!.layers.reversed() {
        if let d = FileManager.default.contents(atPath: store.layerPath(l) + path) { return String(decoding: d, as: UTF8.self) }
    }
    return nil
}

@Suite(.serialized) struct BuilderTests {
    @Test func multiStageFromScratchWithOwnershipModesAndIgnore() throws {
        let store = try storeWithBusybox()
        let (id, lines, _) = try build(store, """
        ARG BASE=busybox
        FROM ${BASE} AS build
        ARG GREETING=hi
        ENV OUT=/out
        WORKDIR /work
        COPY . ./
        COPY --chown=app:app note.txt /home/app/named.txt
        RUN mkdir -p $OUT && cat note.txt > $OUT/result && echo "$GREETING" >> $OUT/result && ls -a > $OUT/listing && rm /etc/doomed
        FROM scratch
        COPY --from=build /out/ /app/
        COPY --from=build /bin/busybox /bin/busybox
        COPY --chmod=700 --chown=1000:1000 note.txt /home/app/
        ENV MODE=prod
        EXPOSE 8000
        ENTRYPOINT ["/bin/busybox"]
        CMD ["cat", "/app/result"]
        """, files: ["note.txt": "from the context\n", "sub/secret.key": "no", ".dockerignore": "**/*.key\n"],
            args: ["GREETING": "bonjour"], tag: "demo")
        #expect(try store.resolve("demo")?.id == id)
        #expect(fileInImage(store, id, "/app/result") == "from the context\nbonjour\n")
        #expect(fileInImage(store, id, "/app/listing")?.contains("secret.key") == false)
        #expect(fileInImage(store, id, "/app/listing")?.contains("note.txt") == true)
        let image = store.image(id)!
        var st = stat()
        let owned = image.layers.first { lstat(store.layerPath($0) + "/home/app/note.txt", &st) == 0 }
        #expect(owned != nil && st.st_uid == 1000 && st.st_gid == 1000 && st.st_mode & 0o7777 == 0o700)
        let c = image.config.config
        #expect(c.Entrypoint == ["/bin/busybox"] && c.Cmd == ["cat", "/app/result"])
        #expect(c.Env == ["MODE=prod"])  // ARGs and the first stage's ENV are not in the image
        #expect(c.ExposedPorts?.keys.sorted() == ["8000/tcp"])
        #expect(lines.contains { $0.contains("[build 7/7] RUN") })
        let named = store.image(id)!  // the first stage's files are not in the final image
        #expect(!named.layers.contains { access(store.layerPath($0) + "/home/app/named.txt", F_OK) == 0 })
    }

    @Test func deletionsAreWhiteouts() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, "FROM busybox\nRUN rm /etc/doomed\n")
        let top = store.layerPath(store.image(id)!.layers.last!)
        var st = stat()
        #expect(lstat(top + "/etc/doomed", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
        #expect(access(top + "/proc", F_OK) != 0)  // runc's mount points are not part of the layer
    }

    @Test func cacheHitsMissesAndNoCache() throws {
        let store = try storeWithBusybox()
        let dockerfile = "FROM busybox\nRUN echo first-run-marker\nCOPY app.txt /app.txt\nRUN cat /app.txt && echo second-run-marker\n"
        let (_, first, ctx) = try build(store, dockerfile, files: ["app.txt": "v1\n"])
        #expect(ran(first, "first-run-marker") && ran(first, "second-run-marker"))
        // Unchanged context: no RUN runs.
        let (_, again, _) = try build(store, dockerfile, context: ctx)
        #expect(!ran(again, "first-run-marker") && !ran(again, "second-run-marker"))
        #expect(again.filter { $0.hasSuffix(" CACHED") }.count == 2)
        // New mtimes keep the cache.
        var times = [timespec(tv_sec: 2_000_000, tv_nsec: 0), timespec(tv_sec: 2_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, ctx + "/app.txt", &times, 0)
        let (_, touched, _) = try build(store, dockerfile, context: ctx)
        #expect(!ran(touched, "first-run-marker") && !ran(touched, "second-run-marker"))
        // A changed file invalidates from its COPY on, not before.
        write(ctx + "/app.txt", "v2\n")
        let (_, changed, _) = try build(store, dockerfile, context: ctx)
        #expect(!ran(changed, "first-run-marker"))
        #expect(ran(changed, "second-run-marker") && ran(changed, "v2"))
        // --no-cache runs everything.
        let (_, fresh, _) = try build(store, dockerfile, context: ctx, noCache: true)
        #expect(ran(fresh, "first-run-marker"))
    }

    @Test func failingRunNamesTheStepStatusAndOutput() throws {
        let store = try storeWithBusybox()
        do {
            _ = try build(store, "FROM busybox\nRUN echo about to fail && false\n")
            Issue.record("the build should have failed")
        } catch let e as BuildError {
            #expect(e.description.contains("exited with status 1"))
            #expect(e.step?.contains("RUN echo about to fail") == true)
            #expect(e.lastLines == ["about to fail"])
        }
        // Nothing half-written: no staging left, no image, no cache entry.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp").isEmpty)
        #expect(store.imageIDs().count == 1)  // just busybox
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/cache").isEmpty)
    }

    @Test func twoBuildsAtOnceShareTheStoreSafely() throws {
        let store = try storeWithBusybox()
        let ids = Mutex<[String: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let r = try? build(store, "FROM busybox\nRUN echo app\(i) > /name\nCMD [\"cat\", \"/name\"]\n", tag: "app\(i)")
            ids.withLock { $0["app\(i)"] = r?.0 }
        }
        #expect(ids.withLock { $0.count == 2 && $0.values.allSatisfy { !$0.isEmpty } })
        for i in 0..<2 {
            let id = try #require(try store.resolve("app\(i)")?.id)
            #expect(fileInImage(store, id, "/name") == "app\(i)\n")
        }
    }

    @Test func addArchivesHeredocsOnbuildTargetAndHealthcheck() throws {
        let store = try storeWithBusybox()
        let ctx = tempDir("ctx")
        try FileManager.default.createDirectory(atPath: ctx + "/pkg", withIntermediateDirectories: true)
        write(ctx + "/pkg/inside.txt", "from the archive\n")
        _ = ImageStore.run(["tar", "-C", ctx + "/pkg", "-czf", ctx + "/bundle.tar.gz", "inside.txt"])
        _ = try build(store, "FROM busybox\nONBUILD RUN echo triggered > /onbuild\n", tag: "parent")
        let (id, lines, _) = try build(store, """
        FROM parent AS base
        ADD bundle.tar.gz /opt/
        COPY <<EOF /etc/greeting
        hello from a heredoc
        EOF
        RUN <<EOF
        cat /etc/greeting > /ran
        echo second line >> /ran
        EOF
        HEALTHCHECK --interval=5s --retries=2 CMD wget -q -O- http://localhost/ || exit 1
        USER 1000
        FROM scratch AS unused
        COPY --from=base /ran /ran
        """, context: ctx, target: "base")
        #expect(!lines.contains { $0.contains("[unused") })
        #expect(fileInImage(store, id, "/opt/inside.txt") == "from the archive\n")
        #expect(fileInImage(store, id, "/etc/greeting") == "hello from a heredoc\n")
        #expect(fileInImage(store, id, "/ran") == "hello from a heredoc\nsecond line\n")
        #expect(fileInImage(store, id, "/onbuild") == "triggered\n")
        let c = store.image(id)!.config.config
        #expect(c.Healthcheck?.Test == ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"])
        #expect(c.Healthcheck?.Interval == 5_000_000_000 && c.Healthcheck?.Retries == 2)
        #expect(c.User == "1000")
        #expect(c.OnBuild == nil)  // triggers run once, downstream
    }

    @Test func entrypointResetsAnInheritedCmd() throws {
        let store = try storeWithBusybox()
        _ = try build(store, "FROM busybox\nCMD [\"sh\"]\n", tag: "withcmd")
        let (id, _, _) = try build(store, "FROM withcmd\nENTRYPOINT [\"/bin/echo\"]\n")
        #expect(store.image(id)!.config.config.Cmd == nil)
        #expect(store.image(id)!.config.config.Entrypoint == ["/bin/echo"])
        let (id2, _, _) = try build(store, "FROM withcmd\nENTRYPOINT echo hi\nCMD [\"x\"]\n")
        #expect(store.image(id2)!.config.config.Entrypoint == ["/bin/sh", "-c", "echo hi"])
        #expect(store.image(id2)!.config.config.Cmd == ["x"])
    }

    @Test func oneEnvironmentSnapshotPerInstructionAndHeredocExpansion() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, """
        FROM busybox
        ENV A=1
        ENV A=2 B=$A
        ARG NAME=x
        VOLUME /data/$A "/quoted/$A"
        VOLUME ["/json/$A"]
        ENV NAME=env-wins
        COPY <<EOF /expanded
        a=$A name=$NAME "quoted"
        EOF
        COPY <<'EOF' /literal
        a=$A
        EOF
        """, args: ["NAME": "from-arg"])
        let env = store.image(id)!.config.config.Env ?? []
        #expect(env.contains("A=2") && env.contains("B=1"))
        #expect(store.image(id)!.config.config.Volumes?.keys.sorted() == ["/data/2", "/json/2", "/quoted/2"])
        #expect(fileInImage(store, id, "/expanded") == "a=2 name=env-wins \"quoted\"\n")
        #expect(fileInImage(store, id, "/literal") == "a=$A\n")
    }

    @Test func copyDestinationRules() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, """
        FROM busybox
        WORKDIR /app
        COPY a.txt .
        COPY a.txt /etc
        COPY a.txt /renamed.txt
        COPY a.txt /newdir/
        """, files: ["a.txt": "A\n"])
        #expect(fileInImage(store, id, "/app/a.txt") == "A\n")  // `.` is the WORKDIR
        #expect(fileInImage(store, id, "/etc/a.txt") == "A\n")  // an existing directory
        #expect(fileInImage(store, id, "/renamed.txt") == "A\n")
        #expect(fileInImage(store, id, "/newdir/a.txt") == "A\n")
    }

    @Test func missingBaseImageSaysPullIsNotAvailable() throws {
        let store = try storeWithBusybox()
        #expect(throws: BuildError.self) { _ = try build(store, "FROM node:20\n") }
    }
}

@Suite struct ImageProcessTests {
    @Test func entrypointCmdEnvAndUser() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, "FROM busybox\nENV A=1 PATH=/bin\nWORKDIR /srv\nUSER app\nENTRYPOINT [\"/bin/echo\"]\nCMD [\"default\"]\n")
        let image = store.image(id)!
        let p = try store.process(for: image, command: [], env: ["A=2", "B=3"])
        #expect(p.args == ["/bin/echo", "default"])
        #expect(p.env == ["PATH=/bin", "A=2", "B=3"])
        #expect(p.cwd == "/srv" && p.uid == 1000 && p.gid == 1000)
        #expect(try store.process(for: image, command: ["given"], env: []).args == ["/bin/echo", "given"])
        let (plain, _, _) = try build(store, "FROM busybox\n")
        #expect(throws: StoreError.self) { _ = try store.process(for: store.image(plain)!, command: [], env: []) }
        #expect(try store.process(for: store.image(plain)!, command: ["sh"], env: []).args == ["sh"])
    }
}

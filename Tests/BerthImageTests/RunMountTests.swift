import Testing
import Foundation
@testable import BerthImage

#if canImport(Glibc)
import Glibc
#endif

@Suite struct RunFlagsTests {
    @Test func buildKitsOptionNames() throws {
        let f = try RunFlags.parse(["--mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1000,gid=1000",
                                    "--mount=type=bind,source=req.txt,target=req.txt", "--mount=type=secret,id=tok,required",
                                    "--mount=type=tmpfs,target=/scratch,size=64m", "--network=none"], workdir: "/app", where: "Dockerfile:3")
        #expect(f.mounts == [
            .cache(target: "/root/.cache", id: "pip", sharing: .locked, mode: 0o700, uid: 1000, gid: 1000),
            .bind(target: "/app/req.txt", source: "req.txt", from: nil, readWrite: false),
            .secret(id: "tok", target: "/run/secrets/tok", required: true, mode: 0o400, uid: 0, gid: 0),
            .tmpfs(target: "/scratch", size: 64 << 20),
        ])
        #expect(f.network == .none)
        #expect(throws: BuildError.self) { try RunFlags.parse(["--mount=type=cache,target=/a,id=x", "--mount=type=cache,target=/b,id=x"], workdir: "/", where: "D:1") }
        #expect(RunFlags.size("99999999999999999g") == nil)
        let d = try RunFlags.parse(["--mount=target=/src,from=build,rw", "--mount=type=cache,dst=/c"], workdir: "/", where: "D:1")
        #expect(d.mounts == [.bind(target: "/src", source: "/", from: "build", readWrite: true),
                             .cache(target: "/c", id: "/c", sharing: .shared, mode: 0o755, uid: 0, gid: 0)])
    }

    @Test func errorsNameTheLine() {
        for (flag, says) in [("--privileged", "RUN --privileged is not supported"), ("--network=bridge", "expected --network=default, none or host"),
                             ("--mount=type=cache", "needs target=PATH"), ("--mount=type=cache,target=/c,colour=red", "unknown option 'colour'"),
                             ("--mount=type=nfs,target=/x", "type=nfs: expected cache, bind, secret or tmpfs"),
                             ("--mount=type=cache,target=/c,sharing=some", "sharing=some"), ("--mount=type=secret", "needs id=NAME"),
                             ("--mount=type=tmpfs,target=/t,size=lots", "size=lots")] {
            do {
                _ = try RunFlags.parse([flag], workdir: "/", where: "/ctx/Dockerfile:7")
                Issue.record("\(flag) parsed")
            } catch {
                #expect(error.message.hasPrefix("/ctx/Dockerfile:7: ") && error.message.contains(says), "\(error)")
            }
        }
    }

    @Test func secretsOnTheCommandLine() throws {
        #expect(try BuildSecret.parse("id=a,src=/f") == ("a", .file("/f")))
        #expect(try BuildSecret.parse("id=a,env=TOKEN") == ("a", .env("TOKEN")))
        #expect(try BuildSecret.parse("id=TOKEN") == ("TOKEN", .env("TOKEN")))
        #expect(throws: BuildError.self) { try BuildSecret.parse("src=/f") }
        #expect(throws: BuildError.self) { try BuildSecret.parse("id=a,src=/f,env=X") }
    }
}

/// Real runc: what each mount shows a RUN step, and what never reaches a layer.
@Suite(.serialized) struct RunMountTests {
    /// Every file in every layer the build added (the busybox base's one is left out), read.
    func everyLayerFile(_ store: ImageStore, _ id: String) -> [String: String] {
        var out: [String: String] = [:]
        for l in store.image(id)!.layers.dropFirst() {
            let root = store.layerPath(l)
            guard let e = FileManager.default.enumerator(atPath: root) else { continue }
            for case let rel as String in e {
                if let d = FileManager.default.contents(atPath: root + "/" + rel) { out[rel] = String(decoding: d, as: UTF8.self) }
            }
        }
        return out
    }

    @Test func aCacheFilledByOneBuildIsSeenByTheNextWithNoCache() throws {
        let store = try storeWithBusybox()
        let df = "FROM busybox\nRUN --mount=type=cache,target=/var/cache/app,id=counter sh -c 'n=$(cat /var/cache/app/n 2>/dev/null || echo 0); echo $((n + 1)) > /var/cache/app/n; cp /var/cache/app/n /seen'\n"
        let (first, _, ctx) = try build(store, df)
        #expect(fileInImage(store, first, "/seen") == "1\n")
        let (second, _, _) = try build(store, df, context: ctx, noCache: true)
        #expect(fileInImage(store, second, "/seen") == "2\n")
        #expect(everyLayerFile(store, second).keys.allSatisfy { !$0.hasPrefix("var/cache/app") }, "the cache is not in the layer")
        #expect(try store.pruneCacheMounts() > 0)
        let (third, _, _) = try build(store, df, context: ctx, noCache: true)
        #expect(fileInImage(store, third, "/seen") == "1\n", "prune --cache emptied it")
    }

    @Test func aBindMountOfTheContextIsReadAndNotKept() throws {
        let store = try storeWithBusybox()
        let (id, _, ctx) = try build(store, """
        FROM busybox
        RUN --mount=type=bind,target=/ctx cat /ctx/data.txt > /out
        RUN --mount=type=bind,source=data.txt,target=/d.txt,rw sh -c 'cat /d.txt >> /out; echo changed > /d.txt'
        """, files: ["data.txt": "from the context\n"])
        #expect(fileInImage(store, id, "/out") == "from the context\nfrom the context\n")
        #expect(everyLayerFile(store, id).keys.allSatisfy { !$0.hasPrefix("ctx") && $0 != "d.txt" })
        #expect(try String(contentsOfFile: ctx + "/data.txt", encoding: .utf8) == "from the context\n", "rw writes are thrown away")
        // Neither `..` nor a symbolic link leads out of the context.
        try FileManager.default.createSymbolicLink(atPath: ctx + "/etc-link", withDestinationPath: "/etc")
        for source in ["../", "etc-link"] {
            do {
                _ = try build(store, "FROM busybox\nRUN --mount=type=bind,source=\(source),target=/x true\n", context: ctx)
                Issue.record("\(source) was mounted")
            } catch {
                #expect("\(error)".contains("is outside the build context"), "\(error)")
            }
        }
    }

    @Test func aChangedBindSourceRunsTheStepAgain() throws {
        let store = try storeWithBusybox()
        let df = "FROM busybox\nRUN --mount=type=bind,source=req.txt,target=/req.txt cat /req.txt > /installed\n"
        let (first, _, ctx) = try build(store, df, files: ["req.txt": "flask==3.0\n"])
        let (_, again, _) = try build(store, df, context: ctx)
        #expect(again.contains { $0.hasSuffix(" CACHED") }, "the same source keeps the cache")
        write(ctx + "/req.txt", "flask==3.1\n")
        let (changed, lines, _) = try build(store, df, context: ctx)
        #expect(!lines.contains { $0.hasSuffix(" CACHED") } && changed != first)
        #expect(fileInImage(store, changed, "/installed") == "flask==3.1\n")
    }

    @Test func aBindMountFromAStage() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, """
        FROM busybox AS tools
        RUN echo built > /artifact
        FROM busybox
        RUN --mount=type=bind,from=tools,source=/artifact,target=/mnt/a cat /mnt/a > /copied
        """)
        #expect(fileInImage(store, id, "/copied") == "built\n")
    }

    @Test func aSecretIsReadableInItsRunAndNowhereElse() throws {
        let store = try storeWithBusybox()
        let value = "s3cr3t-\(UUID().uuidString)"
        let file = tempDir("secret") + "/token"
        write(file, value)
        let ctx = tempDir("ctx")
        write(ctx + "/Dockerfile", "FROM busybox\nRUN --mount=type=secret,id=tok sh -c 'busybox sha256sum /run/secrets/tok > /proof'\n")
        var opts = BuildOptions(context: ctx)
        opts.secrets = ["tok": .file(file)]
        let log = Log()
        let id = try Builder(store: store, output: { log.lines.append($0) }).build(opts)
        let digest = SHA256()
        digest.update(value)
        #expect(fileInImage(store, id, "/proof") == digest.finish() + "  /run/secrets/tok\n")
        #expect(everyLayerFile(store, id).values.allSatisfy { !$0.contains(value) })
        #expect(everyLayerFile(store, id).keys.allSatisfy { !$0.hasPrefix("run/secrets") })
        #expect(!String(decoding: store.image(id)!.config.json(pretty: true), as: UTF8.self).contains("s3cr3t"))
        #expect(!log.lines.joined().contains("s3cr3t"))
        // A required one that is missing fails; an optional one is just absent.
        write(ctx + "/Dockerfile", "FROM busybox\nRUN --mount=type=secret,id=other,required true\n")
        #expect(throws: BuildError.self) { try Builder(store: store, output: { _ in }).build(opts) }
        write(ctx + "/Dockerfile", "FROM busybox\nRUN --mount=type=secret,id=other sh -c 'test ! -e /run/secrets/other'\n")
        _ = try Builder(store: store, output: { _ in }).build(opts)
    }

    @Test func networkNoneCannotReachAHostService() throws {
        let store = try storeWithBusybox()
        // A host service on 127.0.0.1 that accepts and hangs up at once.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let acceptor = Thread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { return }
                close(c)
            }
        }
        acceptor.start()
        defer { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
        let probe = "sh -c 'busybox nc -w 2 127.0.0.1 \(port) </dev/null && echo reached > /r || echo cut-off > /r'"
        let (none, _, _) = try build(store, "FROM busybox\nRUN --network=none \(probe)\n")
        #expect(fileInImage(store, none, "/r") == "cut-off\n")
        let (host, _, _) = try build(store, "FROM busybox\nRUN --network=host \(probe)\n")
        #expect(fileInImage(store, host, "/r") == "reached\n")
    }
}

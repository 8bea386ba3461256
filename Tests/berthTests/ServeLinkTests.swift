import Testing
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `link`: berth listens on 127.0.0.1:PORT inside the consumer's network
/// namespace and forwards to the linked app's replica in its own; nothing
/// is published on the host or in any other app's namespace.
@Suite(.serialized) struct ServeLinkTests {
    /// The pid of `app`'s running container, from `berth ps`'s status and runc's state.
    func containerPID(_ state: String, app: String) throws -> Int32 {
        for _ in 0..<100 {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: state + "/ps.json"))) ?? Data()
            let rows = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
            if let id = rows.first(where: { $0["app"] as? String == app && $0["state"] as? String == "running" })?["container"] as? String {
                let (rc, out) = try shell("runc --root \(state)/runc state \(id) 2>/dev/null")
                if rc == 0, let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
                   let pid = json["pid"] as? Int, pid > 0 {
                    return Int32(pid)
                }
            }
            usleep(100_000)
        }
        throw TestFailure("no running container for \(app)")
    }

    /// Runs Python in `pid`'s network namespace: connects to 127.0.0.1:`port`,
    /// reads the banner line, sends `mib` MiB of random bytes while reading
    /// them back, and prints the banner and whether both SHA-256 digests match.
    func transfer(pid: Int32, port: Int, mib: Int) throws -> (Int32, String) {
        let script = """
        import hashlib, os, socket, sys, threading
        s = socket.create_connection(("127.0.0.1", \(port)), timeout=20)
        f = s.makefile("rb")
        banner = f.readline().decode().strip()
        total = \(mib) << 20
        sent = hashlib.sha256()
        def send():
            left = total
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                sent.update(chunk)
                s.sendall(chunk)
                left -= len(chunk)
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        got = hashlib.sha256()
        n = 0
        while True:
            b = f.read1(1 << 20)
            if not b:
                break
            got.update(b)
            n += len(b)
        t.join()
        print(banner, n == total and got.hexdigest() == sent.hexdigest(), n)
        """
        let path = try writeTemp(script, name: "link-transfer.py")
        return try shell("nsenter --net=/proc/\(pid)/ns/net python3 \(path) 2>&1")
    }

    /// Whether 127.0.0.1:`port` accepts in `pid`'s namespace (nil: the host's).
    func accepts(pid: Int32?, port: Int) throws -> Bool {
        let probe = "import socket; socket.create_connection(('127.0.0.1', \(port)), timeout=2); print('open')"
        let prefix = pid.map { "nsenter --net=/proc/\($0)/ns/net " } ?? ""
        return try shell("\(prefix)python3 -c \"\(probe)\" 2>/dev/null").1.contains("open")
    }

    @Test func aLinkCarriesBytesBothWaysAndFollowsARedeploy() throws {
        let state = try busyboxState()
        let config = { (version: Int) in """
        listen 127.0.0.1:0
        workers 2
        timeouts {
            drain 1s
        }
        app echo {
            image busybox
            port 7000
            env V=\(version)
            command /bin/sh -c "mkdir -p /tmp; printf '#!/bin/sh\\\\necho v$V\\\\nexec cat\\\\n' > /tmp/e; chmod +x /tmp/e; exec busybox nc -ll -p 7000 -e /tmp/e"
        }
        app client {
            image busybox
            command /bin/sleep 100000
            link echo 7100
        }
        app third {
            image busybox
            command /bin/sleep 100000
        }
        """ }
        let serve = try ServeProcess(config: config(1), stateDir: state)
        let started = serve.startupLines.filter { $0.contains("started 1/1") }
        #expect(started.count == 3, "\(serve.startupLines)")
        // The service started before its consumer.
        let order = serve.startupLines.compactMap { l in ["echo", "client"].first { l.contains("[run]   \($0)  started") } }
        #expect(order.first == "echo", "\(serve.startupLines)")
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(serve.port)/").1 == "404", "a service is not routed")

        let client = try containerPID(state, app: "client")
        let env = try String(contentsOfFile: "/proc/\(client)/environ", encoding: .utf8).split(separator: "\0")
        #expect(env.contains("ECHO_HOST=127.0.0.1") && env.contains("ECHO_PORT=7100"), "\(env)")
        let (rc, out) = try transfer(pid: client, port: 7100, mib: 100)
        #expect(rc == 0 && out.hasPrefix("v1 True \(100 << 20)"), "\(out)")

        // Reachable only from the consumer's namespace.
        #expect(try accepts(pid: nil, port: 7100) == false, "the link is not on the host")
        #expect(try accepts(pid: try containerPID(state, app: "third"), port: 7100) == false, "nor in another app")
        #expect(try accepts(pid: client, port: 7100))

        // A redeploy of the service: new connections reach the new replica.
        try config(2).write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let (reloaded, said, _) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", state])
        #expect(reloaded == 0, "\(said)")
        var banner = ""
        for _ in 0..<50 {
            banner = try transfer(pid: client, port: 7100, mib: 1).1
            if banner.hasPrefix("v2") { break }
            usleep(100_000)
        }
        #expect(banner.hasPrefix("v2 True"), "\(banner)")
        #expect(serve.terminate() == 0)
    }
}

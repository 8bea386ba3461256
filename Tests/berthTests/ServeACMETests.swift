import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `listen ... tls auto` with pebble as the CA: serve answers HTTP-01 on its
/// plain listener, installs the certificate without a reload, and a restart
/// reuses the stored one.
@Suite(.serialized) struct ServeACMETests {
    @Test func tlsAutoGetsACertificateAndARestartReusesIt() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort()
        let pebble = try PebbleServer(httpPort: httpPort)
        let backend = try FixtureUpstream()
        let config = """
        listen 127.0.0.1:\(httpPort)
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 1
        acme {
            email ops@example.test
            directory \(pebble.directory)
            ca-root \(pebble.caFile)
            challenge http-01
        }
        app web {
            host app.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """
        let serve = try ServeProcess(config: config, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        let issued = serve.waitForLine(timeout: 60) { $0.contains("[acme]  app.example.test  certificate valid until") }
        #expect(issued != nil, "\(serve.lines)\n\(serve.stderrText())")
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        let curl = "curl -s --max-time 10 --cacert \(root) --resolve app.example.test:\(tlsPort):127.0.0.1 https://app.example.test:\(tlsPort)/"
        #expect(try shell(curl).1.contains("\"method\""), "a certificate the client trusts, for the app's host")
        // Plain HTTP still routes; the stored key is private.
        #expect(try shell("curl -s -H 'Host: app.example.test' http://127.0.0.1:\(httpPort)/").1.contains("\"method\""))
        let key = serve.stateDir + "/acme/certs/app.example.test/key.pem"
        let mode = (try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let (rc, certs, _) = try runBerth(["certs", "--state-dir", serve.stateDir])
        #expect(rc == 0 && certs.contains("app.example.test  valid") && certs.contains("Pebble") && certs.contains("renew "), "\(certs)")
        #expect(serve.terminate() == 0)

        // A restart serves the stored certificate at once and asks the CA for nothing.
        let again = try ServeProcess(config: config, stateDir: serve.stateDir, waitForApps: false)
        defer { if again.process.isRunning { _ = again.terminate() } }
        #expect(try shell(curl).1.contains("\"method\""))
        usleep(300_000)
        #expect(!again.lines.contains { $0.contains("[acme]") && $0.contains("requesting") }, "\(again.lines)")
        #expect(again.terminate() == 0)
    }

    /// TLS-ALPN-01 on the `tls auto` listener itself: no plain listener at all.
    @Test func tlsALPN01OnTheTLSListenerAlone() throws {
        let tlsPort = PebbleServer.freePort()
        let pebble = try PebbleServer(tlsPort: tlsPort)
        let backend = try FixtureUpstream()
        let config = """
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 2
        acme {
            directory \(pebble.directory)
            ca-root \(pebble.caFile)
            challenge tls-alpn-01
        }
        app web {
            host alpn.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """
        let serve = try ServeProcess(config: config, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        // Before the certificate: handshakes fail cleanly (no certificate to offer).
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        let issued = serve.waitForLine(timeout: 60) { $0.contains("[acme]  alpn.example.test  certificate valid until") }
        #expect(issued != nil, "\(serve.lines)\n\(serve.stderrText())")
        let curl = "curl -s --max-time 10 --cacert \(root) --resolve alpn.example.test:\(tlsPort):127.0.0.1 https://alpn.example.test:\(tlsPort)/"
        #expect(try shell(curl).1.contains("\"method\""))
        #expect(serve.terminate() == 0)
    }
}

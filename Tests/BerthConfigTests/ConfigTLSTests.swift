import Testing
@testable import BerthConfig

/// `tls { }`, `listen ... tls`, `redirect-https`, `registry`, `runtime`.
@Suite struct ConfigTLSTests {
    func error(_ text: String) -> String {
        do {
            _ = try Config.parse(text, file: "p.conf")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func sniBlockAndRedirects() throws {
        let c = try Config.parse("""
            listen :80
            listen :443 tls tls-min=1.3
            redirect-https on
            tls {
                cert a.example a.pem a.key
                cert B.example b.pem b.key
                default b.example
            }
            app a {
                path /a
                redirect-https off
                upstream 127.0.0.1:1
            }
            """, file: "p.conf")
        #expect(c.listens[1].tls == ListenConfig.TLS(cert: nil, key: nil, minVersion: "1.3"))
        #expect(c.tlsSites.map(\.host) == ["a.example", "b.example"])
        #expect(c.tlsSites[1].cert == "b.pem" && c.tlsSites[1].location.line == 6)
        #expect(c.tlsDefault == "b.example")
        #expect(c.redirectHTTPS && c.apps[0].redirectHTTPS == false)
    }

    @Test func errorsNameTheirPlace() {
        #expect(error("listen :443 tls\n").contains("p.conf:1:1: error: listen :443 tls: no cert=FILE key=FILE and no 'tls { cert HOST FILE KEY }' block"))
        #expect(error("listen :443 tls\ntls {\n cert a x y\n default b\n}\n").contains("p.conf:2:1: error: tls: default b has no cert line"))
        #expect(error("listen :443 tls\ntls {\n cert a x\n}\n").contains("p.conf:3:11: error: cert: expected HOST CERT_FILE KEY_FILE"))
        #expect(error("listen :443 tls\ntls {\n cert a x y\n cert A z w\n}\n").contains("p.conf:4:7: error: tls: duplicate cert for A"))
        #expect(error("listen :80\nredirect-https on\n").contains("redirect-https is on but no 'listen ... tls' line serves HTTPS"))
        #expect(error("listen :80\nregistry localhost:5000\n").contains("p.conf:2:1: error: registry: expected 'registry HOST[:PORT] insecure'"))
        #expect(error("listen :80\nruntime docker\n").contains("p.conf:2:9: error: runtime: expected 'runc' or 'crun', got 'docker'"))
    }

    @Test func registriesAndRuntime() throws {
        let c = try Config.parse("listen :80\nregistry localhost:5000 insecure\nregistry 10.0.0.1:5000 insecure\nruntime crun\n", file: "p.conf")
        #expect(c.insecureRegistries == ["localhost:5000", "10.0.0.1:5000"])
        #expect(c.runtime == .crun)
    }
}

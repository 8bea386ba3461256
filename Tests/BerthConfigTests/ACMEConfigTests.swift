import Testing
import BerthConfig

@Suite struct ACMEConfigTests {
    @Test func tlsAutoTakesTheAppsHostsLessStaticCertificates() throws {
        let c = try Config.parse("""
        listen :80
        listen :443 tls auto
        acme {
            email ops@example.com
            directory staging
            challenge http-01
            key-type rsa2048
        }
        tls {
            cert static.example.com s.pem s.key
            auto extra.example.com
        }
        app a {
            host A.example.com
            upstream 127.0.0.1:1
        }
        app s {
            host static.example.com
            upstream 127.0.0.1:2
        }
        app b {
            path /b
            upstream 127.0.0.1:3
        }
        """, file: "/etc/berth/proxy.conf")
        #expect(c.usesACME && c.listens[1].tls?.auto == true)
        #expect(c.acme?.email == "ops@example.com" && c.acme?.directory == ACMEConfig.letsEncryptStaging && c.acme?.keyType == .rsa2048)
        #expect(c.acmeNames == ["a.example.com", "extra.example.com"], "a static certificate wins for its name")
        // Without an acme block: Let's Encrypt, no contact.
        let plain = try Config.parse("listen :443 tls auto\napp a {\n host a.example.com\n upstream 127.0.0.1:1\n}\n", file: "p")
        #expect(plain.acme == nil && plain.usesACME && plain.acmeNames == ["a.example.com"])
        #expect(ACMEConfig().directory == ACMEConfig.letsEncrypt)
        #expect(ACMEConfig().challenges == [.tlsALPN01, .http01], "both, TLS-ALPN-01 first (no port 80 needed)")
    }

    @Test func acmeErrorsNameTheirPlace() {
        let e = configError("listen :443 tls auto\nacme {\n  directory http://ca.test/dir\n}\n")
        #expect(e?.location.line == 3 && e?.message.contains("https:// URL or 'staging'") == true)
        #expect(configError("listen :443 tls auto\nacme {\n  email nobody\n}\n")?.message.contains("e-mail address") == true)
        #expect(configError("listen :443 tls auto\nacme {\n  challenge dns-01\n}\n")?.message.contains("http-01 or tls-alpn-01") == true)
        #expect(configError("listen :443 tls auto\nacme {\n  challenge tls-alpn-01\n}\n") == nil)
        #expect(configError("listen :443 tls auto\nacme {\n  key-type ed25519\n}\n")?.message.contains("'p256' or 'rsa2048'") == true)
        #expect(configError("listen :443 tls auto cert=a.pem key=a.key\n")?.message.contains("no cert= or key=") == true)
        #expect(configError("listen :443 tls\ntls {\n  auto https://x\n}\n")?.message.contains("host name") == true)
    }
}

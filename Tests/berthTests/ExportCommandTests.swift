import Testing
import Foundation

/// `berth export kubernetes`: files written owner-only (Secrets are in
/// them), what is not exported on stderr, the pushes on stdout, and a bad
/// config refused with its location and nothing written.
@Suite struct ExportCommandTests {
    @Test func writesManifestsAndSaysWhatItLeftOut() throws {
        let config = try writeTemp("listen :8080\napp api {\n path /api\n upstream 10.0.0.1:9000\n}\napp web {\n path /\n build .\n port 3000\n skew-retry on\n}\n")
        let out = URL(fileURLWithPath: config).deletingLastPathComponent().path + "/k8s"
        let (code, stdout, stderr) = try runBerth(["export", "kubernetes", "--config", config, "--registry", "reg.example/acme", "-o", out])
        #expect(code == 0, "\(stderr)")
        #expect(stdout.contains("wrote 4 files to \(out)"))
        #expect(stdout.contains("berth push berth/web:latest reg.example/acme/web:latest"))
        #expect(stderr.contains("export: ") && stderr.contains("skew-retry"), "\(stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: out + "/web.yaml")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: out + "/kustomization.yaml", encoding: .utf8).contains("- \"web.yaml\""))
    }

    @Test func aBadConfigWritesNothing() throws {
        let config = try writeTemp("listen :8080\napp api {\n path /api\n upstream nowhere:x\n}\n")
        let out = URL(fileURLWithPath: config).deletingLastPathComponent().path + "/k8s-bad"
        let (code, _, stderr) = try runBerth(["export", "kubernetes", "--config", config, "-o", out])
        #expect(code == 1)
        #expect(stderr.contains(":4:11: error: upstream"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

import Testing
import Foundation
import BerthConfig
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// gRPC through berth to an `upstream h2c://` server: unary, failing,
/// client-, server- and bidirectional streaming calls (Debian's
/// python3-grpcio on both ends), over an h2c listener and over TLS with ALPN
/// h2; grpc-status and grpc-message reach the client as trailers.
@Suite struct GRPCIntegrationTests {
    static let expected = """
        echo hello
        echo-big 3000000
        fail INVALID_ARGUMENT bad input: zz
        total a+b+c
        count 0,1,2,3,4
        chat ONE,TWO,THREE

        """
    let certs = TestCertificates.shared

    @Test func callsOfEveryKindOverH2cAndTLS() throws {
        let grpc = try GRPCServerProcess()
        defer { grpc.stop() }
        let text = """
            listen 127.0.0.1:0 h2c
            listen 127.0.0.2:0 tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))
            workers 1
            app g {
                path /t.T
                strip-prefix off
                upstream h2c://127.0.0.1:\(grpc.port)
            }
            """
        let server = try ProxyServer(config: try Config.parse(text, file: "grpc.conf"))
        try server.start()
        defer { server.stop() }
        let client = Bundle.module.url(forResource: "grpc_client", withExtension: "py", subdirectory: "Fixtures")!.path
        let (h2cStatus, h2c) = try run(["/usr/bin/python3", client, "127.0.0.1:\(server.ports[0])"])
        #expect(h2cStatus == 0)
        #expect(h2c == Self.expected)
        let (tlsStatus, tls) = try run(["/usr/bin/python3", client, "127.0.0.2:\(server.ports[1])", certs.cert("a.test"), "a.test"])
        #expect(tlsStatus == 0)
        #expect(tls == Self.expected)
    }

    @Test func aDeadUpstreamIsUnavailable() throws {
        let text = """
            listen 127.0.0.1:0 h2c
            workers 1
            app g {
                path /t.T
                strip-prefix off
                upstream h2c://127.0.0.1:1
            }
            """
        let server = try ProxyServer(config: try Config.parse(text, file: "grpc.conf"))
        try server.start()
        defer { server.stop() }
        let (_, out) = try run(["nghttp", "-nv", "http://127.0.0.1:\(server.ports[0])/t.T/Echo"])
        #expect(out.contains(":status: 502"), "\(out)")
    }
}

/// Fixtures/grpc_server.py on 127.0.0.1, until `stop`.
final class GRPCServerProcess {
    let port: Int
    private let process = Process()
    private let stdin = Pipe()

    init() throws {
        let script = Bundle.module.url(forResource: "grpc_server", withExtension: "py", subdirectory: "Fixtures")!
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path]
        process.standardInput = stdin
        guard let p = try startPrintingPort(process) else { throw TestError("grpc_server.py printed no port") }
        port = p
    }

    /// SIGKILL (a test thread's blocked SIGTERM is inherited).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

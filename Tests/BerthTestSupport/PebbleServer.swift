import Synchronization
import Foundation

/// Let's Encrypt's test CA (Debian's `pebble`) with `pebble-challtestsrv` as
/// its DNS (every name → 127.0.0.1), on free ports, with a TLS certificate
/// made here; validation connects to `httpPort` on 127.0.0.1.
public final class PebbleServer: @unchecked Sendable {
    public let dir: String
    public let directory: String
    /// The certificate of pebble's own HTTPS listener (trust it to talk to pebble).
    public let caFile: String
    public let httpPort: Int
    public let tlsPort: Int
    public let managementPort: Int
    /// pebble-challtestsrv's management API (DNS answers).
    public private(set) var dnsManagementPort = 0
    private var processes: [Process] = []

    /// Ports handed out already: a port bound and closed can come back from
    /// the next bind to port 0, and two servers of one test would then clash.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port nothing listens on now and this process has not handed out before.
    public static func freePort() -> Int {
        while true {
            let p = anyFreePort()
            if handedOut.withLock({ $0.insert(p).inserted }) { return p }
        }
    }

    private static func anyFreePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    /// `httpPort`/`tlsPort`: where validation connects for HTTP-01 and TLS-ALPN-01 (free ones when nil).
    /// `validity`: seconds each certificate is valid (pebble's default is years).
    public init(httpPort given: Int? = nil, tlsPort givenTLS: Int? = nil, validity: Int? = nil) throws {
        for tool in ["pebble", "pebble-challtestsrv"] where !FileManager.default.fileExists(atPath: "/usr/bin/\(tool)") {
            throw TestError("\(tool) is not installed (scripts/setup.sh installs the pebble package)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-pebble-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (api, mgmt, dns) = (Self.freePort(), Self.freePort(), Self.freePort())
        managementPort = mgmt
        (httpPort, tlsPort) = (given ?? Self.freePort(), givenTLS ?? Self.freePort())
        caFile = dir + "/pebble-cert.pem"
        try Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                                          "-subj", "/CN=pebble", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                                          "-keyout", dir + "/pebble-key.pem", "-out", caFile])
        let config = """
        {"pebble": {"listenAddress": "127.0.0.1:\(api)", "managementListenAddress": "127.0.0.1:\(mgmt)",
          "certificate": "\(caFile)", "privateKey": "\(dir)/pebble-key.pem",
          "httpPort": \(httpPort), "tlsPort": \(tlsPort), "ocspResponderURL": "", "externalAccountBindingRequired": false
          \(validity.map { ", \"certificateValidityPeriod\": \($0)" } ?? "")}}
        """
        try config.write(toFile: dir + "/pebble.json", atomically: true, encoding: .utf8)
        directory = "https://127.0.0.1:\(api)/dir"
        dnsManagementPort = Self.freePort()
        try start("/usr/bin/pebble-challtestsrv", ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dns)",
                                                   "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:\(dnsManagementPort)"])
        try start("/usr/bin/pebble", ["-config", dir + "/pebble.json", "-dnsserver", "127.0.0.1:\(dns)"],
                  env: ["PEBBLE_VA_NOSLEEP": "1", "PEBBLE_AUTHZREUSE": "0"])  // nonce rejection stays on: the retry path runs
        // Ready when the directory answers.
        for _ in 0..<100 {
            if (try? Self.run("/usr/bin/curl", ["-sf", "--cacert", caFile, directory])) != nil { return }
            usleep(100_000)
        }
        throw TestError("pebble did not start: \((try? String(contentsOfFile: dir + "/pebble.log", encoding: .utf8)) ?? "")")
    }

    private func start(_ tool: String, _ args: [String], env: [String: String] = [:]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let log = FileHandle(forWritingAtPath: dir + "/pebble.log") ?? {
            FileManager.default.createFile(atPath: dir + "/pebble.log", contents: nil)
            return FileHandle(forWritingAtPath: dir + "/pebble.log")!
        }()
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        processes.append(p)
    }

    @discardableResult
    public static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestError("\(tool) \(args.joined(separator: " ")) exited \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Makes `host` resolve to `address` (a name whose validation must fail: nothing listens there).
    public func resolve(_ host: String, to address: String) throws {
        try Self.run("/usr/bin/curl", ["-sf", "-X", "POST", "-d", #"{"host":"\#(host)","addresses":["\#(address)"]}"#,
                                       "http://127.0.0.1:\(dnsManagementPort)/add-a"])
    }

    /// How many orders pebble was asked for (its log: one line per new order).
    public func orderCount() -> Int {
        let log = (try? String(contentsOfFile: dir + "/pebble.log", encoding: .utf8)) ?? ""
        // Not "POST /order-plz": a request pebble rejects for its nonce (it
        // rejects some on purpose) is retried and would count twice.
        return log.components(separatedBy: "Added order ").count - 1
    }

    /// The root pebble issues from (it makes a new one each run), as PEM.
    public func issuingRoot() throws -> String {
        try Self.run("/usr/bin/curl", ["-sf", "--cacert", caFile, "https://127.0.0.1:\(managementPort)/roots/0"])
    }

    deinit {
        for p in processes where p.isRunning {
            kill(p.processIdentifier, SIGKILL)  // SIGTERM may be blocked in what the test runner passes on
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

public struct TestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

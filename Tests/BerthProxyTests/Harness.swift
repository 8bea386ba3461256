import Foundation
import BerthConfig
import BerthRouting
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// A Python upstream (Fixtures/upstream.py) on 127.0.0.1. It exits when this
/// test process does (its stdin is a pipe we hold open).
final class UpstreamProcess: @unchecked Sendable {
    static let shared = UpstreamProcess()
    static let second = UpstreamProcess()

    let port: Int
    private let process = Process()
    private let stdin = Pipe()

    init(port: Int = 0) {
        signal(SIGPIPE, SIG_IGN)
        let script = Bundle.module.url(forResource: "upstream", withExtension: "py", subdirectory: "Fixtures")!
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, String(port)]
        process.standardInput = stdin
        self.port = try! startPrintingPort(process)!
    }

    /// SIGKILL: a child spawned from a test thread inherits its blocked
    /// SIGTERM, so terminate() may not end it.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Starts `process` with its stdout on a pipe and reads the port the
/// fixture prints on its first line (nil when it printed none).
func startPrintingPort(_ process: Process) throws -> Int? {
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    var line = Data()
    while true {
        let byte = out.fileHandleForReading.readData(ofLength: 1)
        if byte.isEmpty || byte == Data([0x0A]) { break }
        line.append(byte)
    }
    return Int(String(decoding: line, as: UTF8.self))
}

/// Runs a proxy in this process on an ephemeral port for the duration of `body`.
func withProxy(_ apps: String, workers: Int = 1, extra: String = "", _ body: (Int) throws -> Void) throws {
    try withServer(apps, workers: workers, extra: extra) { _, port in try body(port) }
}

/// The same, handing `body` the server too (to reload it).
func withServer(_ apps: String, workers: Int = 1, extra: String = "", _ body: (ProxyServer, Int) throws -> Void) throws {
    let config = try Config.parse(proxyConfig(apps, workers: workers, extra: extra), file: "test.conf")
    let server = try ProxyServer(config: config)
    try server.start()
    defer { server.stop() }
    try body(server, server.ports[0])
}

func proxyConfig(_ apps: String, workers: Int = 1, extra: String = "") -> String {
    "listen 127.0.0.1:0\nworkers \(workers)\n\(extra)\n\(apps)"
}

/// An app block routing `path` to `ports` on 127.0.0.1.
func app(_ name: String, _ path: String, _ ports: [Int], _ more: String = "") -> String {
    "app \(name) {\n path \(path)\n upstream \(ports.map { "127.0.0.1:\($0)" }.joined(separator: " "))\n\(more)\n}\n"
}

/// Polls `condition` every 50 ms for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

/// The usual test app: /u → the shared upstream.
var upstreamApp: String {
    "app u {\n path /u\n upstream 127.0.0.1:\(UpstreamProcess.shared.port)\n}\n"
}

struct HTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// A chunked body's trailer lines, as received.
    var trailers: [String] = []

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// The request headers the echo fixture saw, by lower-cased name.
    var echoedHeaders: [String: [String]] {
        var out: [String: [String]] = [:]
        for pair in (json["headers"] as? [[String]]) ?? [] { out[pair[0].lowercased(), default: []].append(pair[1]) }
        return out
    }
}

/// A blocking TCP client with a receive timeout, for byte-exact requests.
final class RawClient: ResponseReading {
    let fd: Int32
    var buffer: [UInt8] = []

    init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw TestError("connect to \(port) failed: errno \(errno)") }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads more bytes into the buffer; false on EOF, error or timeout.
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }
}

/// Reading HTTP responses off a byte source (a socket, or an in-memory
/// pipe): delimited as HTTP/1.1 says.
protocol ResponseReading: AnyObject {
    /// Bytes received and not yet parsed.
    var buffer: [UInt8] { get set }
    /// Gets more bytes into `buffer`; false when none will come.
    func fill() -> Bool
}

extension ResponseReading {
    func take(_ n: Int) -> [UInt8] {
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    func line() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 0x0A) {
                let l = take(i + 1)
                return String(decoding: l.dropLast(l.count >= 2 && l[l.count - 2] == 0x0D ? 2 : 1), as: UTF8.self)
            }
            if !fill() { throw TestError("connection closed or timed out while reading a line; have \(String(decoding: buffer, as: UTF8.self).debugDescription)") }
        }
    }

    func exactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n {
            if !fill() { throw TestError("connection closed after \(buffer.count) of \(n) bytes") }
        }
        return take(n)
    }

    /// Reads one response (skipping 1xx unless asked), delimited as HTTP/1.1 says.
    func readResponse(method: String = "GET", keepInterim: Bool = false) throws -> HTTPResponse {
        while true {
            let status = try line()
            let parts = status.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, let code = Int(parts[1]) else { throw TestError("bad status line \(status.debugDescription)") }
            var headers: [(String, String)] = []
            while true {
                let l = try line()
                if l.isEmpty { break }
                let colon = l.firstIndex(of: ":")!
                headers.append((String(l[..<colon]), l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            var r = HTTPResponse(status: code, headers: headers, body: [])
            if code < 200 {
                if keepInterim || code == 101 { return r }
                continue
            }
            if method == "HEAD" || code == 204 || code == 304 { return r }
            if r.header("transfer-encoding")?.lowercased() == "chunked" {
                while true {
                    let size = Int(try line().split(separator: ";")[0], radix: 16)!
                    if size == 0 {
                        while case let t = try line(), !t.isEmpty { r.trailers.append(t) }
                        break
                    }
                    r.body += try exactly(size)
                    _ = try line()
                }
            } else if let cl = r.header("content-length") {
                r.body = try exactly(Int(cl)!)
            } else {
                r.body = readToEOF()
            }
            return r
        }
    }

    /// Everything until the peer closes (or the timeout).
    func readToEOF() -> [UInt8] {
        while fill() {}
        let out = buffer
        buffer.removeAll()
        return out
    }

    /// True when the peer has closed (EOF with nothing pending).
    func isClosedByPeer() -> Bool {
        buffer.isEmpty && !fill()
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs a command; returns its exit status and standard output.
@discardableResult
func run(_ args: [String], stdin: FileHandle? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    if let stdin { p.standardInput = stdin }
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// `curl -s -o /dev/null -w %{http_code}` for `url`.
func curlStatus(_ url: String, _ extra: [String] = []) throws -> Int {
    Int(try run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + extra + [url]).1) ?? -1
}

func request(_ port: Int, _ text: String, method: String = "GET") throws -> HTTPResponse {
    let c = try RawClient(port: port)
    c.send(text)
    return try c.readResponse(method: method)
}

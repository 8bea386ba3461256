import Foundation

/// What a keeper process (`berth shim`) needs to run one container, written
/// by serve as `keeper.json` in the container's directory before the keeper
/// starts, and read back by a later serve to decide whether to adopt it.
public struct KeeperSpec: Codable, Sendable, Equatable {
    public var id: String
    public var dir: String
    public var runcBinary: String
    public var runcRoot: String
    /// The image's STOPSIGNAL, as runc names it.
    public var stopSignal: String
    public var logPath: String
    public var maxLogBytes: Int
    /// Where the keeper listens (`STATE/keepers/ID.sock`).
    public var socket: String
    /// Volume lock files the keeper holds shared for as long as it runs
    /// (so `berth volume rm` sees the volume in use even with no serve).
    public var volumeLocks: [String]
    /// What the control plane needs to recognise it: app, replica, version,
    /// image id, settings digest, port.
    public var labels: [String: String]

    public init(run: ContainerRun, logPath: String, maxLogBytes: Int = 10 << 20, socket: String,
                volumeLocks: [String] = [], labels: [String: String] = [:]) {
        id = run.id
        dir = run.dir
        runcBinary = run.runc.binary
        runcRoot = run.runc.stateRoot
        stopSignal = run.stopSignal.runcName
        self.logPath = logPath
        self.maxLogBytes = maxLogBytes
        self.socket = socket
        self.volumeLocks = volumeLocks
        self.labels = labels
    }

    public var run: ContainerRun {
        ContainerRun(id: id, dir: dir, runc: Runc(binary: runcBinary, stateRoot: runcRoot),
                     stopSignal: ContainerSignal(stopSignal: stopSignal))
    }

    public static func path(in dir: String) -> String { dir + "/keeper.json" }

    public func write() throws(RuntimeError) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        do {
            let data = try enc.encode(self)
            try data.write(to: URL(fileURLWithPath: Self.path(in: dir) + ".tmp"))
            guard rename(Self.path(in: dir) + ".tmp", Self.path(in: dir)) == 0 else {
                throw RuntimeError("rename: \(String(cString: strerror(errno)))")
            }
        } catch let e as RuntimeError {
            throw e
        } catch {
            throw RuntimeError("cannot write \(Self.path(in: dir)): \(error)")
        }
    }

    public static func read(dir: String) throws(RuntimeError) -> KeeperSpec {
        guard let data = FileManager.default.contents(atPath: path(in: dir)) else {
            throw RuntimeError("cannot read \(path(in: dir))")
        }
        do {
            return try JSONDecoder().decode(KeeperSpec.self, from: data)
        } catch {
            throw RuntimeError("\(path(in: dir)): \(error)")
        }
    }
}

import BerthConfig
@testable import BerthHost
import BerthRuntime
import Foundation
import Synchronization

/// An engine with no images and no containers: builds answer an image id per
/// app (or fail), processes "run" at once with a made-up pid whose network
/// namespace path names them, and every start and stop is recorded.
final class FakeEngine: ContainerEngine, @unchecked Sendable {
    struct Recorded {
        var imageIDs: [String: String] = [:]
        var failingBuilds: [String: String] = [:]
        var processes: [FakeProcess] = []
        var nextPID: Int32 = 40000
        /// What `takeOver` answers: an earlier serve's running replicas.
        var survivors: [Survivor] = []
        var discarded: [String] = []
    }

    let recorded = Mutex(Recorded())
    let events: FakeDataPlane
    var runtime: String { "fake" }

    /// Events go to the data plane's log, so their order with switches shows.
    init(events: FakeDataPlane) {
        self.events = events
    }

    func setImage(_ app: String, _ id: String) { recorded.withLock { $0.imageIDs[app] = id } }
    func failBuild(_ app: String, _ why: String) { recorded.withLock { $0.failingBuilds[app] = why } }
    var processes: [FakeProcess] { recorded.withLock { $0.processes } }

    /// The image a placement's process runs (its netns path names its pid).
    func image(of netns: String?) -> String? {
        recorded.withLock { r in r.processes.first { "/proc/\($0.pid)/ns/net" == netns }?.imageID }
    }

    func build(_ app: AppConfig, base: String, progress: @escaping @Sendable (String) -> Void) throws -> String {
        if let why = recorded.withLock({ $0.failingBuilds[app.name] }) { throw FakeError(why) }
        progress("#1 DONE 0.0s")
        return recorded.withLock { $0.imageIDs[app.name] ?? "image-\(app.name)-1" }
    }

    func makeProcess(_ app: AppConfig, number: Int, version: Int, imageID: String, env: [String],
                     onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess {
        recorded.withLock { r in
            r.nextPID += 1
            let p = FakeProcess(name: "\(app.name)-\(number)-v\(version)", pid: r.nextPID, imageID: imageID,
                                events: events, onChange: onChange)
            r.processes.append(p)
            return p
        }
    }

    func takeOver() -> (survivors: [Survivor], removed: [String]) {
        (recorded.withLock { $0.survivors }, [])
    }

    /// An adopted process is already running: its start only watches it.
    func adopt(_ survivor: Survivor, onChange: @escaping @Sendable () -> Void) throws -> any ReplicaProcess {
        recorded.withLock { r in
            r.nextPID += 1
            let p = FakeProcess(name: String(survivor.id.dropFirst(6)), pid: r.nextPID, imageID: survivor.imageID,
                                events: events, onChange: onChange, adopted: true)
            r.processes.append(p)
            return p
        }
    }

    func discard(_ survivor: Survivor) {
        events.log("discard \(survivor.id)")
        recorded.withLock { $0.discarded.append(survivor.id) }
    }
}

/// A replica process that runs as soon as it starts and stops at once.
final class FakeProcess: ReplicaProcess, @unchecked Sendable {
    let id: String
    let pid: Int32
    let imageID: String
    let logPath = "/dev/null"
    private let events: FakeDataPlane
    private let onChange: @Sendable () -> Void
    private let state = Mutex(SupervisedContainer.Status())
    private let stoppedAtLock = Mutex<Date?>(nil)

    let adopted: Bool
    var isAdopted: Bool { adopted }

    init(name: String, pid: Int32, imageID: String, events: FakeDataPlane, onChange: @escaping @Sendable () -> Void,
         adopted: Bool = false) {
        id = "berth-\(name)"
        self.adopted = adopted
        self.pid = pid
        self.imageID = imageID
        self.events = events
        self.onChange = onChange
    }

    var status: SupervisedContainer.Status { state.withLock { $0 } }
    var stoppedAt: Date? { stoppedAtLock.withLock { $0 } }

    /// What `exec` answers (`health exec`): 0 passes.
    let execStatus = Mutex<Int32?>(0)

    func exec(_ args: [String], timeout: Double) -> Int32? {
        events.log("exec \(id) \(args.joined(separator: " "))")
        return execStatus.withLock { $0 }
    }

    func start() throws {
        state.withLock {
            $0.state = .running
            $0.pid = pid
            $0.since = Date()
        }
        events.log((adopted ? "watch " : "start ") + id)
        // The real supervisor reports from its own thread.
        DispatchQueue.global().async { self.onChange() }
    }

    func stop(grace: Double) {
        stoppedAtLock.withLock { $0 = Date() }
        state.withLock {
            $0.state = .stopped
            $0.pid = nil
        }
        events.log("stop \(id)")
        onChange()
    }

    func kill() { events.log("kill \(id)") }

    func detach() { events.log("detach \(id)") }

    /// The container exits (and is not restarted, as if backing off).
    func exit() {
        state.withLock {
            $0.state = .backingOff
            $0.pid = nil
        }
        events.log("exit \(id)")
        onChange()
    }
}

struct FakeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

import Foundation

/// Drives the OCI runtime binary: `runc run` of a bundle to completion,
/// handing each output line to the caller as it arrives.
public struct Runc: Sendable, Equatable {
    /// `runc` (default), or `crun` when configured and it works here.
    public var binary: String
    /// runc's state directory (--root).
    public var stateRoot: String

    public init(binary: String = "runc", stateRoot: String) {
        self.binary = binary
        self.stateRoot = stateRoot
    }

    /// Runs the bundle's process; returns its exit status. stdout and stderr
    /// are merged, line by line (empty lines dropped). `started` gets the runc
    /// process as soon as it runs (to watch it from elsewhere).
    /// With `pidFile`, runc writes the container's init pid there once it exists.
    public func run(bundle: String, id: String, pidFile: String? = nil, started: (Process) -> Void = { _ in },
                    output: (String) -> Void) throws(RuntimeError) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [binary, "--root", stateRoot, "run", "--bundle", bundle] + (pidFile.map { ["--pid-file", $0] } ?? []) + [id]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw RuntimeError("cannot start \(binary): \(error)") }
        started(p)
        let reader = pipe.fileHandleForReading
        var pending = Data()
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            // Lines end at LF, or at CR (progress meters redraw with it).
            while let nl = pending.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                if !line.isEmpty { output(line) }
                pending.removeSubrange(pending.startIndex...nl)
            }
        }
        if !pending.isEmpty { output(String(decoding: pending, as: UTF8.self)) }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// `runc exec ID ARGS...` inside the running container; its exit status,
    /// or nil when it did not finish within `timeout` (it is then killed).
    public func exec(_ id: String, _ args: [String], timeout: Double) -> Int32? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [binary, "--root", stateRoot, "exec", id] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch { return nil }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            done.wait()
            return nil
        }
        return p.terminationStatus
    }

    /// `runc kill ID SIGNAL` (ignored when the container is already gone).
    public func kill(_ id: String, signal: ContainerSignal = .term) {
        _ = capture(["kill", id, signal.runcName])
    }

    /// `runc delete --force ID`: kills what is left of the container and
    /// forgets it (nothing happens when runc does not know it).
    public func forceDelete(_ id: String) {
        _ = capture(["delete", "--force", id])
    }

    /// The ids of the containers runc knows under this state root.
    public func list() -> [String] {
        guard let out = capture(["list", "-q"]) else { return [] }
        return out.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Runs `runc --root ROOT ARGS...`; its stdout when it exits 0.
    private func capture(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [binary, "--root", stateRoot] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}

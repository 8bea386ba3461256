import BerthConfig
import BerthRouting
import Foundation
import Synchronization

/// A data plane with no sockets: it records every switch and routing update
/// in order, answers probes as the test says, and completes `whenIdle` when
/// the test says the replicas' requests ended (or after `idleDelay`, like a
/// worker that answers late).
final class FakeDataPlane: DataPlane, @unchecked Sendable {
    struct Recorded {
        var events: [String] = []
        /// The last `previous` (skew-retry) the data plane got.
        var previous: [String: [Placement]] = [:]
        var routing: [String: AppRouting] = [:]
        var applied: [RoutingInput] = []
        var generation = 1
        var drainedAll = false
        var idleCompletedAt: [Date] = []
    }

    let recorded = Mutex(Recorded())
    /// Whether a probe of this placement passes (default: every one does).
    let probeAnswer = Mutex<@Sendable (Placement) -> Bool>({ _ in true })
    /// Thrown by the next `apply`.
    let applyError = Mutex<DataPlaneError?>(nil)
    /// How long `whenIdle` takes to complete (a late worker's answer).
    let idleDelay = Mutex(0.0)

    init(initial: [String: AppRouting] = [:]) {
        recorded.withLock { $0.routing = initial }
    }

    var generation: Int { recorded.withLock { $0.generation } }
    var events: [String] { recorded.withLock { $0.events } }
    var routing: [String: AppRouting] { recorded.withLock { $0.routing } }

    func log(_ e: String) { recorded.withLock { $0.events.append(e) } }

    func apply(_ input: RoutingInput) throws(DataPlaneError) -> AppliedGeneration {
        if let e = applyError.withLock({ $0 }) {
            log("apply rejected")
            throw e
        }
        return recorded.withLock { r in
            r.generation += 1
            r.routing = input.apps
            r.previous = input.previous
            r.applied.append(input)
            r.events.append("apply \(r.generation)")
            return AppliedGeneration(generation: r.generation, diff: ConfigDiff(from: input.config, to: input.config))
        }
    }

    func route(_ apps: [String: AppRouting], previous: [String: [Placement]]) throws(DataPlaneError) {
        recorded.withLock { r in
            r.routing = apps
            r.previous = previous
            r.events.append("route")
        }
    }

    func recordRejectedReload() { log("rejected reload") }

    func openLinks(_ links: [LinkListen], in netns: String?) throws -> LinkHandle {
        log("links " + links.map { "\($0.app):\($0.port)" }.joined(separator: ","))
        return LinkHandle(ids: links.indices.map { $0 })
    }

    func closeLinks(_ handle: LinkHandle) { log("unlink \(handle.ids.count)") }

    func answerHTTP01(token: String, keyAuthorization: String?) { log(keyAuthorization == nil ? "withdraw \(token)" : "answer \(token)") }

    func setOnDemandHandler(_ handler: (@Sendable (String) -> Void)?) {}
    func refuseOnDemand(_ name: String) { log("refuse \(name)") }

    func answerTLSALPN01(name: String, keyAuthorization: String?) throws { log("alpn \(name)") }

    func installCertificates(_ certificates: [String: CertificateFiles]) throws {
        log("certificates " + certificates.keys.sorted().joined(separator: ","))
    }

    /// Tunnels to old versions stay open until `closeTunnels` (when set).
    let tunnelsOpen = Mutex(false)

    func closeTunnels(_ placements: [Placement], spread: Double, completion: @escaping @Sendable (DrainOutcome) -> Void) {
        log("closeTunnels \(placements.count) spread \(spread)")
        tunnelsOpen.withLock { $0 = false }
        whenIdle(placements, includingTunnels: true, timeout: spread, completion: completion)
    }

    func whenIdle(_ placements: [Placement], includingTunnels: Bool, timeout: Double,
                  completion: @escaping @Sendable (DrainOutcome) -> Void) {
        if includingTunnels {
            log("whenTunnelsClosed \(placements.count)")
            if tunnelsOpen.withLock({ $0 }) {
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                    log("tunnels timed out")
                    completion(.timedOut(busy: placements))
                }
            } else {
                DispatchQueue.global().async { [self] in
                    log("tunnels closed")
                    completion(.drained)
                }
            }
            return
        }
        log("whenIdle \(placements.count)")
        if placements.isEmpty {
            // Answered before returning, as a data plane may: the caller
            // must not hold a lock the completion needs.
            log("idle")
            completion(.drained)
            return
        }
        let delay = idleDelay.withLock { $0 }
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            recorded.withLock { $0.idleCompletedAt.append(Date()) }
            log("idle")
            completion(.drained)
        }
    }

    func probe(_ placement: Placement, health: HealthCheck?, timeout: Double) -> ProbeResult {
        let ok = probeAnswer.withLock { $0 }(placement)
        return ProbeResult(passed: ok, detail: ok ? "fake probe passed" : "fake probe refused")
    }

    func drainAll(timeout: Double) -> Bool {
        log("drainAll")
        recorded.withLock { $0.drainedAll = true }
        return true
    }
}

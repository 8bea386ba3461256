import BerthConfig
@testable import BerthHost
import BerthRouting
import Testing

/// The per-app state machine on its own: each transition from the phase it
/// belongs to, and none from the others.
@Suite struct AppModelTests {
    func deployment(_ image: String) throws -> Deployment {
        let app = try #require(try Config.parse("listen :1\napp a {\n build x\n}\n", file: "t").apps.first)
        return Deployment(config: app, imageID: image, replicas: [])
    }

    @Test func firstStartThenRedeployThenSwitch() throws {
        var m = AppModel()
        #expect(m.routing == .starting)
        let v1 = try deployment("v1"), v2 = try deployment("v2")
        let step1 = m.firstVersionStarted(v1)
        #expect(step1)
        #expect(m.live === v1)
        #expect(m.routing == .ready([]))
        let step2 = m.beginRedeploy()
        #expect(step2)
        #expect(m.live === v1)  // the old keeps serving while the new starts
        let step3 = !m.beginRedeploy()
        #expect(step3)
        let step4 = m.switched(to: v2) === v1
        #expect(step4)
        #expect(m.live === v2)
        #expect(m.draining.count == 1 && m.draining[0] === v1)
        m.stopped(v1)
        #expect(m.draining.isEmpty)
    }

    @Test func rollbackKeepsTheLiveVersion() throws {
        var m = AppModel()
        let v1 = try deployment("v1")
        let step5 = m.firstVersionStarted(v1)
        #expect(step5)
        let step6 = m.beginRedeploy()
        #expect(step6)
        let step7 = m.rolledBack("gate failed")
        #expect(step7)
        #expect(m.live === v1)
        #expect(m.draining.isEmpty)
    }

    @Test func failedFirstStartAnswersFailedAndAReloadTriesAgain() throws {
        var m = AppModel()
        let step8 = m.firstVersionFailed("no base image")
        #expect(step8)
        #expect(m.routing == .failed(reason: "no base image"))
        let step9 = !m.firstVersionStarted(try deployment("v1"))
        #expect(step9)
        let step10 = m.beginRedeploy()
        #expect(step10)
        #expect(m.routing == .starting)
        let step11 = m.added(try deployment("v1"))
        #expect(step11)
        #expect(m.live != nil)
    }

    @Test func removeDrainsTheLiveVersion() throws {
        var m = AppModel()
        let v1 = try deployment("v1")
        let step12 = m.firstVersionStarted(v1)
        #expect(step12)
        let step13 = m.remove().count == 1
        #expect(step13)
        #expect(m.routing == .failed(reason: "stopping"))
        #expect(!m.isGone)
        m.stopped(v1)
        #expect(m.isGone)
        let step14 = m.switched(to: v1) == nil
        #expect(step14)
    }
}

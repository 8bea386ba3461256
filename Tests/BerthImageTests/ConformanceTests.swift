import Testing
import Foundation
import BerthImage

/// BuildKit's own parser cases (../shared/conformance/dockerfile-parser).
let conformance = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/conformance/dockerfile-parser")

func caseNames(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: conformance.appendingPathComponent(dir).path)) ?? []).sorted()
}

func read(_ path: URL) throws -> String {
    String(decoding: try Data(contentsOf: path), as: UTF8.self)
}

@Suite struct ConformanceTests {
    @Test func thereAre33PositiveAnd4NegativeCases() {
        #expect(caseNames("testfiles").count == 33)
        #expect(caseNames("testfiles-negative").count == 4)
    }

    @Test(arguments: caseNames("testfiles"))
    func dumpMatchesBuildKit(_ name: String) throws {
        let dir = conformance.appendingPathComponent("testfiles/\(name)")
        let df = try DockerfileParser.parse(read(dir.appendingPathComponent("Dockerfile")))
        let expected = try read(dir.appendingPathComponent("result"))
        #expect(DockerfileDump.dump(df) == expected)
    }

    @Test(arguments: caseNames("testfiles-negative"))
    func negativeCasesFail(_ name: String) throws {
        let text = try read(conformance.appendingPathComponent("testfiles-negative/\(name)/Dockerfile"))
        #expect(throws: DockerfileError.self) { _ = try DockerfileParser.parse(text) }
    }

    @Test func lineRangesMatchBuildKit() throws {
        let df = try DockerfileParser.parse(read(conformance.appendingPathComponent("testfile-line/Dockerfile")))
        #expect(df.instructions.map { [$0.startLine, $0.endLine] } == [[5, 5], [11, 12], [17, 31]])
    }
}

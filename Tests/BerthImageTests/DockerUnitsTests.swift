import Testing
import Foundation
@testable import BerthImage

@Suite struct DockerUnitsTests {
    @Test func sizesAsDockerWritesThem() {
        #expect(DockerUnits.size(0) == "0B")
        #expect(DockerUnits.size(999) == "999B")
        #expect(DockerUnits.size(1000) == "1kB")
        #expect(DockerUnits.size(1234) == "1.234kB")
        #expect(DockerUnits.size(8_225_000) == "8.225MB")
        #expect(DockerUnits.size(123_456_789) == "123.5MB")
        #expect(DockerUnits.size(2_000_000_000) == "2GB")
    }

    @Test func agesAsDockerWritesThem() {
        #expect(DockerUnits.duration(0.5) == "Less than a second")
        #expect(DockerUnits.duration(1) == "1 second")
        #expect(DockerUnits.duration(59) == "59 seconds")
        #expect(DockerUnits.duration(90) == "About a minute")
        #expect(DockerUnits.duration(600) == "10 minutes")
        #expect(DockerUnits.duration(3600) == "About an hour")
        #expect(DockerUnits.duration(90 * 60) == "2 hours", "go-units rounds hours to the nearest")
        #expect(DockerUnits.duration(47 * 3600) == "47 hours")
        #expect(DockerUnits.duration(3 * 86400) == "3 days")
        #expect(DockerUnits.duration(20 * 86400) == "2 weeks")
        #expect(DockerUnits.duration(90 * 86400) == "3 months")
        #expect(DockerUnits.duration(800 * 86400) == "2 years")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(DockerUnits.ago("2027-01-15T08:00:00Z", now: now) != nil)
        #expect(DockerUnits.ago("yesterday", now: now) == nil)
    }
}

@Suite struct ImageHistoryTests {
    func image(_ history: [ImageConfig.History]?, layers: [String]) -> ImageStore.Image {
        var c = ImageConfig()
        c.history = history
        return ImageStore.Image(config: c, layers: layers, layerSizes: layers.map { _ in 10 }, size: 10 * layers.count, created: "2026-01-01T00:00:00Z")
    }

    @Test func rowsNewestFirstWithSizesOnlyWhereALayerWasAdded() {
        let b = ImageHistory.builtComment
        let h = ImageHistory(imageID: "top", image: image([
            .init(created_by: "base"),
            .init(created_by: "copy", comment: b),
            .init(created_by: "env", empty_layer: true, comment: b),
        ], layers: ["l1", "l2"])) { _ in 10 }
        #expect(h.rows.map(\.createdBy) == ["env", "copy", "base"])
        #expect(h.rows.map(\.size) == [0, 10, 10])
        #expect(h.rows[0].id == "top" && h.rows[1].id?.count == 64 && h.rows[2].id == nil)
    }

    @Test func aBaseWithoutHistoryGetsARowPerLayer() {
        let aligned = ImageHistory.aligned([.init(created_by: "mine", comment: ImageHistory.builtComment)], layers: 3)
        #expect(aligned?.count == 3 && aligned?.last?.created_by == "mine")
        #expect(ImageHistory.aligned([.init(created_by: "a"), .init(created_by: "b")], layers: 1) == nil)
        #expect(ImageHistory.aligned(nil, layers: 0) == nil)
    }
}

import Testing
@testable import BerthProxy

@Suite struct StreamTableTests {
    final class Box {
        let id: Int32
        init(_ id: Int32) { self.id = id }
    }

    @Test func insertLookupAndRemoveAgreeWithADictionaryThroughGrowthAndWraparound() {
        var table = StreamTable<Box>(capacity: 4)
        var model: [Int32: Box] = [:]
        var rng = SystemRandomNumberGenerator()
        var next: Int32 = 1
        for step in 0..<20_000 {
            // Mostly new odd ids as a client opens them, closes in any order, some far apart (colliding homes).
            let r = Int.random(in: 0..<10, using: &rng)
            if r < 5 || model.isEmpty {
                let id = r == 0 ? next &+ 1024 &* Int32.random(in: 1...8, using: &rng) : next
                next += 2
                let b = Box(id)
                table.insert(b, for: id)
                model[id] = b
            } else {
                let id = model.keys.randomElement(using: &rng)!
                #expect(table.remove(id) === model.removeValue(forKey: id), "step \(step)")
                #expect(table.remove(id) == nil)
            }
            #expect(table.count == model.count)
            if step % 97 == 0 {
                for (id, b) in model { #expect(table[id] === b, "id \(id) at step \(step)") }
                // The next ids are absent unless a far one landed on them earlier.
                #expect(table[next] === model[next] && table[next + 2] === model[next + 2])
                #expect(table[next + 1] == nil)  // even: never inserted
                #expect(Set(table.values.map(\.id)) == Set(model.keys))
            }
        }
        table.removeAll()
        #expect(table.isEmpty && table.values.isEmpty)
        for id in model.keys { #expect(table[id] == nil) }
    }

    @Test func insertingAnExistingIdReplacesIt() {
        var table = StreamTable<Box>()
        let a = Box(5), b = Box(5)
        table.insert(a, for: 5)
        table.insert(b, for: 5)
        #expect(table.count == 1 && table[5] === b)
    }
}

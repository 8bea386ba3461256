/// Positions in a list by a 64-bit FNV-1a hash of their key's bytes, in an
/// open-addressing table of its own, for the config's checks across
/// thousands of apps (a Swift Dictionary spent about 400 instructions per
/// operation here; a probe is a few dozen). A candidate is confirmed by the
/// caller, so a collision costs one more comparison, never a wrong answer.
struct HashedPositions {
    /// Position + 1 per slot; 0 is an empty slot.
    private var slots: [Int32] = []
    private var hashes: [UInt64] = []
    private var count = 0

    mutating func reserve(_ n: Int) {
        if n * 2 > slots.count { rehash(capacity: n * 2) }
    }

    /// The first position inserted with `hash` that `matches`.
    func first(_ hash: UInt64, where matches: (Int) -> Bool) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 {
            if hashes[i] == hash, matches(Int(slots[i]) - 1) { return Int(slots[i]) - 1 }
            i = (i + 1) & mask
        }
        return nil
    }

    mutating func insert(_ hash: UInt64, _ position: Int) {
        if (count + 1) * 2 > slots.count { rehash(capacity: max(16, slots.count * 2)) }
        put(hash, Int32(position + 1))
        count += 1
    }

    private mutating func put(_ hash: UInt64, _ slot: Int32) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
        hashes[i] = hash
    }

    private mutating func rehash(capacity: Int) {
        var size = 16
        while size < capacity { size <<= 1 }
        let (oldSlots, oldHashes) = (slots, hashes)
        slots = [Int32](repeating: 0, count: size)
        hashes = [UInt64](repeating: 0, count: size)
        for (s, h) in zip(oldSlots, oldHashes) where s != 0 { put(h, s) }
    }

    static func hash(_ s: String, then other: String? = nil) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) {
            for c in s.utf8 { h = (h ^ UInt64(c)) &* 0x0000_0100_0000_01B3 }
        }
        mix(s)
        // 0xFF never occurs in UTF-8: it separates the parts, and marks a missing second one.
        h = (h ^ 0xFF) &* 0x0000_0100_0000_01B3
        if let other { mix(other) } else { h = (h ^ 0xFF) &* 0x0000_0100_0000_01B3 }
        // FNV's low bits mix poorly for a power-of-two table: fold the high ones in.
        return h ^ (h >> 29)
    }
}

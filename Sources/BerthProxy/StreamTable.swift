/// An HTTP/2 connection's open streams by id: open addressing with linear
/// probing, the slot picked by the id itself (a client's ids are odd and
/// increasing, so consecutive streams fall in consecutive slots). A
/// `Dictionary<Int32, _>` SipHashed the id on every lookup (three per
/// request). Removal shifts the following run back (no tombstones), and the
/// table doubles at half full, so a probe stays short.
struct StreamTable<Element: AnyObject> {
    /// 0: an empty slot (stream ids are positive).
    private var ids: [Int32]
    private var elements: [Element?]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 16) {
        var n = 8
        while n < capacity * 2 { n <<= 1 }
        ids = [Int32](repeating: 0, count: n)
        elements = [Element?](repeating: nil, count: n)
        mask = n - 1
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always) private func home(_ id: Int32) -> Int { Int(id >> 1) & mask }

    subscript(id: Int32) -> Element? {
        var i = home(id)
        while true {
            let k = ids[i]
            if k == id { return elements[i] }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Adds `element` for `id`, or replaces the one there.
    mutating func insert(_ element: Element, for id: Int32) {
        precondition(id > 0, "stream ids are positive")
        if (count + 1) * 2 > ids.count { grow() }
        var i = home(id)
        while ids[i] != 0 && ids[i] != id { i = (i + 1) & mask }
        if ids[i] == 0 { count += 1 }
        ids[i] = id
        elements[i] = element
    }

    /// Removes and returns the element for `id`, if there is one.
    mutating func remove(_ id: Int32) -> Element? {
        var i = home(id)
        while ids[i] != id {
            if ids[i] == 0 { return nil }
            i = (i + 1) & mask
        }
        let removed = elements[i]
        ids[i] = 0
        elements[i] = nil
        count -= 1
        // Back-shift: move later entries of the run into the hole when their home allows it.
        var hole = i
        var j = (i + 1) & mask
        while ids[j] != 0 {
            let h = home(ids[j])
            // Entry j may fill the hole when its home is not cyclically within (hole, j].
            let fits = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j)
            if fits {
                ids[hole] = ids[j]
                elements[hole] = elements[j]
                ids[j] = 0
                elements[j] = nil
                hole = j
            }
            j = (j + 1) & mask
        }
        return removed
    }

    /// Every element, in no particular order.
    var values: [Element] { elements.compactMap { $0 } }

    mutating func removeAll() {
        guard count > 0 else { return }
        for i in ids.indices where ids[i] != 0 {
            ids[i] = 0
            elements[i] = nil
        }
        count = 0
    }

    private mutating func grow() {
        let oldIDs = ids
        let oldElements = elements
        let n = ids.count * 2
        ids = [Int32](repeating: 0, count: n)
        elements = [Element?](repeating: nil, count: n)
        mask = n - 1
        count = 0
        for i in oldIDs.indices where oldIDs[i] != 0 {
            insert(oldElements[i]!, for: oldIDs[i])
        }
    }
}

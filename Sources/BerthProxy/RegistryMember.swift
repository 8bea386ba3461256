/// A connection a worker keeps in an array that knows its own place there,
/// so it is removed in constant time (the last one takes its slot).
protocol RegistryMember: AnyObject {
    var registryIndex: Int { get set }
}

extension Array where Element: RegistryMember {
    mutating func register(_ c: Element) {
        c.registryIndex = count
        append(c)
    }

    /// Takes `c` out; false when it was not here (already removed).
    mutating func unregister(_ c: Element) -> Bool {
        let i = c.registryIndex
        guard i >= 0 && i < count && self[i] === c else { return false }
        let last = removeLast()
        if i < count {
            self[i] = last
            last.registryIndex = i
        }
        c.registryIndex = -1
        return true
    }
}

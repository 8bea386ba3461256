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

    /// Whether `c` is here.
    func holds(_ c: Element) -> Bool {
        let i = c.registryIndex
        return i >= 0 && i < count && self[i] === c
    }

    /// Takes `c` out; false when it was not here (already removed). The
    /// array's reference may be the last one: a caller that goes on using
    /// `c` keeps it elsewhere first.
    mutating func unregister(_ c: Element) -> Bool {
        guard holds(c) else { return false }
        let i = c.registryIndex
        let last = removeLast()
        if i < count {
            self[i] = last
            last.registryIndex = i
        }
        c.registryIndex = -1
        return true
    }
}

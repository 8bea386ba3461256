/// Things with an event to run on this loop turn, taken in batches: what is
/// queued while a batch runs waits for the next batch. Two arrays trade
/// places, so taking a batch neither copies nor allocates (copying the array
/// and then `removeAll(keepingCapacity:)` made a new buffer every batch,
/// since the copy still shared the old one).
struct BatchQueue<Element> {
    private var pending: [Element] = []
    /// An empty array with the capacity of an earlier batch.
    private var spare: [Element] = []

    var isEmpty: Bool { pending.isEmpty }
    var count: Int { pending.count }

    mutating func append(_ element: Element) { pending.append(element) }

    /// Everything queued so far; give it back with `recycle` once run.
    mutating func take() -> [Element] {
        let batch = pending
        pending = spare
        spare = []
        return batch
    }

    /// A batch from `take`, run: emptied, and its memory kept for the next one.
    mutating func recycle(_ batch: inout [Element]) {
        batch.removeAll(keepingCapacity: true)
        if batch.capacity > spare.capacity { swap(&batch, &spare) }
    }
}

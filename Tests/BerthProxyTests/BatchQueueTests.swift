import Testing
@testable import BerthProxy

@Suite struct BatchQueueTests {
    @Test func whatIsQueuedWhileABatchRunsWaitsForTheNextBatch() {
        var queue = BatchQueue<Int>()
        queue.append(1)
        queue.append(2)
        var batch = queue.take()
        #expect(batch == [1, 2])
        #expect(queue.isEmpty)
        queue.append(3)  // as a stream's event would, while the batch runs
        queue.recycle(&batch)
        #expect(batch.isEmpty)
        #expect(queue.count == 1)
        var next = queue.take()
        #expect(next == [3])
        queue.recycle(&next)
        #expect(queue.isEmpty)
    }

    @Test func batchesReuseTheirMemoryInsteadOfAllocating() {
        var queue = BatchQueue<Int>()
        for i in 0..<100 { queue.append(i) }
        var batch = queue.take()
        let first = batch.withUnsafeBufferPointer { $0.baseAddress }
        queue.recycle(&batch)
        // Two buffers trade places: the first batch's comes back within two turns.
        var seen: [UnsafePointer<Int>?] = []
        for _ in 0..<2 {
            for i in 0..<100 { queue.append(i) }
            var b = queue.take()
            #expect(b.count == 100)
            seen.append(b.withUnsafeBufferPointer { $0.baseAddress })
            queue.recycle(&b)
        }
        #expect(seen.contains(first))
    }
}

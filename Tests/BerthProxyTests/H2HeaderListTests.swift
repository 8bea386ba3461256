import CNGHTTP2
import Testing
@testable import BerthProxy

/// The flat header list nghttp2's submit calls get: every field's bytes where
/// its `nghttp2_nv` points, names lowercased when asked, `:status` first.
@Suite final class H2HeaderListTests {
    /// Bytes `raw(_:)` handed out, freed with the suite.
    private var kept: [UnsafeMutableRawBufferPointer] = []
    deinit { for p in kept { p.deallocate() } }

    /// The fields as nghttp2 would read them.
    func fields(_ list: H2HeaderList) -> [(String, String)] {
        list.withNV { nva, count in
            (0..<count).map { i in
                let nv = nva[i]
                return (String(decoding: UnsafeRawBufferPointer(start: nv.name, count: nv.namelen), as: UTF8.self),
                        String(decoding: UnsafeRawBufferPointer(start: nv.value, count: nv.valuelen), as: UTF8.self))
            }
        }
    }

    @Test func aResponseHeadKeepsItsOrderWithNamesLowercased() {
        var list = H2HeaderList(capacity: 8, fields: 1)  // grows past what was reserved
        list.appendStatus(204)
        for (name, value) in [("Content-Type", "text/plain"), ("X-Request-Id", "AbC"), ("set-cookie", "a=B")] {
            name.utf8.withContiguousStorageIfAvailable { n in
                value.utf8.withContiguousStorageIfAvailable { v in
                    list.append(name: UnsafeRawBufferPointer(n), value: UnsafeRawBufferPointer(v), lowercasingName: true)
                }
            }
        }
        let got = fields(list)
        #expect(got.map(\.0) == [":status", "content-type", "x-request-id", "set-cookie"])
        #expect(got.map(\.1) == ["204", "text/plain", "AbC", "a=B"], "values are never changed")
        #expect(list.count == 4)
    }

    @Test func namesAreKeptAsGivenUnlessAskedAndEmptyFieldsArePointedAtValidMemory() {
        #expect(fields(H2HeaderList([(Array("grpc-Status".utf8), Array("0".utf8))])).first! == ("grpc-Status", "0"))
        var empty = H2HeaderList()
        empty.append("", "")
        #expect(fields(empty).count == 1 && fields(empty)[0] == ("", ""))
        var statuses = H2HeaderList()
        for s in [100, 200, 431, 599] { statuses.appendStatus(s) }
        #expect(fields(statuses).map(\.1) == ["100", "200", "431", "599"])
    }

    @Test func aReusedListHoldsOnlyWhatWasAppendedSinceItWasEmptied() {
        var list = H2HeaderList()
        for i in 0..<40 { list.append(name: raw("x-long-name-\(i)"), value: raw(String(repeating: "v", count: i))) }
        #expect(list.count == 40)
        list.removeAll()
        #expect(list.isEmpty)
        list.appendStatus(200)
        list.append(name: raw("Server"), value: raw("b"), lowercasingName: true)
        list.append("", "")
        let got = fields(list)
        #expect(got.map(\.0) == [":status", "server", ""])
        #expect(got.map(\.1) == ["200", "b", ""])
    }

    private func raw(_ s: String) -> UnsafeRawBufferPointer {
        let bytes = Array(s.utf8)
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        p.copyBytes(from: bytes)
        kept.append(p)
        return UnsafeRawBufferPointer(rebasing: p[0..<bytes.count])
    }
}

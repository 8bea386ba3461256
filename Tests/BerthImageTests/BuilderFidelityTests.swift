import Testing
import Foundation
@testable import BerthImage

#if canImport(Glibc)
import Glibc
#endif

/// Where berth's layers and build environment must match BuildKit's.
@Suite(.serialized) struct BuilderFidelityTests {
    /// Every layer's `/` (and directories the step did not create) keeps
    /// the lower layer's mode: 0755 from busybox, whatever the instruction.
    @Test func everyInstructionKindLeavesTheRootDirectoryAsItWas() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, """
        FROM busybox
        COPY hello /hello
        WORKDIR /srv/app
        RUN echo made > /srv/app/made
        COPY --chmod=600 hello /srv/app/deep/er/file
        ADD hello /added
        """, files: ["hello": "hi\n"])
        let image = store.image(id)!
        let base = try store.resolve("busybox")!.image.layers.count
        #expect(image.layers.count == base + 5)
        var st = stat()
        for (i, l) in image.layers.enumerated() {
            #expect(lstat(store.layerPath(l), &st) == 0)
            #expect(st.st_mode & 0o7777 == 0o755, "layer \(i) root is \(String(st.st_mode & 0o7777, radix: 8))")
        }
        // Parents made for a deep COPY are 0755, not the umask's or staging's 0700.
        let deep = image.layers[base + 3]
        #expect(lstat(store.layerPath(deep) + "/srv/app/deep/er", &st) == 0 && st.st_mode & 0o7777 == 0o755)
    }

    @Test func aRootOf0700BelowIsKept() throws {
        let store = try storeWithBusybox()
        let (baseID, _, _) = try build(store, "FROM busybox\nRUN chmod 0711 /\n", tag: "tight")
        #expect(store.image(baseID) != nil)
        let (id, _, _) = try build(store, "FROM tight\nCOPY hello /hello\n", files: ["hello": "hi\n"])
        var st = stat()
        #expect(lstat(store.layerPath(store.image(id)!.layers.last!), &st) == 0 && st.st_mode & 0o7777 == 0o711)
    }

    /// RUN sees an /etc/hosts naming localhost; it is not in the layer.
    @Test func runStepsGetEtcHostsThatNeverLandsInALayer() throws {
        let store = try storeWithBusybox()
        let (id, _, _) = try build(store, "FROM busybox\nRUN cat /etc/hosts > /seen && echo changed >> /etc/hosts\n")
        #expect(fileInImage(store, id, "/seen")?.contains("127.0.0.1\tlocalhost") == true)
        let top = store.layerPath(store.image(id)!.layers.last!)
        #expect(access(top + "/etc/hosts", F_OK) != 0, "hosts is not in the layer")
    }
}

@Suite struct BuildPathTests {
    /// `..` in an absolute container path stops at the root (a COPY destination never leaves the staging dir).
    @Test func resolveStopsAtTheRoot() {
        #expect(Builder.resolve("/../../etc/x", against: "/") == "/etc/x")
        #expect(Builder.resolve("../../x", against: "/app") == "/x")
        #expect(Builder.resolve("sub/../y", against: "/app") == "/app/y")
        #expect(Builder.resolve("/", against: "/app") == "/")
        #expect(Builder.resolve(".", against: "/app") == "/app")
    }
}

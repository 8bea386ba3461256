import Testing
import Foundation
@testable import BerthImage

@Suite struct ExposedPortSpecTests {
    @Test func acceptsDockersForms() {
        #expect(ExposedPortSpec.parse("80")?.keys == ["80/tcp"])
        #expect(ExposedPortSpec.parse("80/tcp")?.keys == ["80/tcp"])
        #expect(ExposedPortSpec.parse("53/udp")?.keys == ["53/udp"])
        #expect(ExposedPortSpec.parse("53/UDP")?.keys == ["53/udp"])
        #expect(ExposedPortSpec.parse("9/sctp")?.keys == ["9/sctp"])
        #expect(ExposedPortSpec.parse("8000-8002")?.keys == ["8000/tcp", "8001/tcp", "8002/tcp"])
        #expect(ExposedPortSpec.parse("8000-8001/udp")?.keys == ["8000/udp", "8001/udp"])
        #expect(ExposedPortSpec.parse("65535")?.keys == ["65535/tcp"])
    }

    @Test func refusesTheRest() {
        for bad in ["abc", "70000", "80 81", "", "80/", "80/icmp", "-80", "80-", "90-80", "+80", "0x50", "80-81-82", "123456", "80/tcp/udp"] {
            #expect(ExposedPortSpec.parse(bad) == nil, "\(bad)")
        }
    }
}

@Suite(.serialized) struct ExposeBuildTests {
    @Test func badPortsFailNamingTheLine() throws {
        let store = try storeWithBusybox()
        for (line, bad) in [("EXPOSE abc", "abc"), ("EXPOSE 70000", "70000"), ("ENV P=\"80 81\"\nEXPOSE \"$P\"", "80 81")] {
            do {
                _ = try build(store, "FROM busybox\n\(line)\n")
                Issue.record("\(line) built")
            } catch {
                let lineNo = line.contains("\n") ? 3 : 2
                #expect("\(error)".contains("/Dockerfile:\(lineNo): invalid port '\(bad)' in EXPOSE"), "\(error)")
            }
        }
        let (id, _, _) = try build(store, "FROM busybox\nENV P=\"80 81\"\nEXPOSE $P 53/udp 8000-8002/tcp\n")
        #expect(store.image(id)!.config.config.ExposedPorts?.keys.sorted()
                == ["53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp", "81/tcp"])
    }
}

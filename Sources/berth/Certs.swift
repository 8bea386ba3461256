import ArgumentParser
import BerthACME
import Foundation

/// `berth certs`: each name of the `tls auto` listeners, as the running (or
/// last) serve left it: valid until when and from whom, pending, or failing
/// since when with the CA's problem detail, and the next renewal or try.
struct Certs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the certificates of 'tls auto' listeners: state, issuer, expiry, next renewal.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let store = CertificateStore(root: options.resolvedStateDir + "/acme")
        let rows: [CertificateStatus]
        do {
            rows = try store.readStatus() ?? []
        } catch {
            printError("berth: \(store.statusFile): \(error)")
            throw ExitCode(1)
        }
        let date = ISO8601DateFormatter()
        var table = [["NAME", "STATE", "ISSUER", "VALID UNTIL", "NEXT", "DETAIL"]]
        for r in rows {
            switch r.state {
            case .valid:
                table.append([r.name, "valid", r.issuer ?? "-", r.notAfter.map(date.string) ?? "-",
                              r.renewAt.map { "renew " + date.string(from: $0) } ?? "-", ""])
            case .pending:
                table.append([r.name, "pending", "-", "-", "requesting", ""])
            case .failing:
                table.append([r.name, "failing since " + (r.since.map(date.string) ?? "?"), "-", "-",
                              r.retryAt.map { "retry " + date.string(from: $0) } ?? "-", r.detail ?? ""])
            }
        }
        printTable(table, gap: "  ")
    }
}

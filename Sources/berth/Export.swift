import ArgumentParser
import BerthConfig
import BerthImage
import BerthKubernetes
import Foundation

/// `berth export kubernetes`: proxy.conf as manifests for a cluster, for
/// when one machine is not enough (see BerthKubernetes).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the apps of proxy.conf as manifests for another engine.",
        subcommands: [Kubernetes.self])

    struct Kubernetes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One YAML file per app (Deployment, Service, HTTPRoute...), a Gateway and kustomization.yaml, for Kubernetes 1.30+ and Gateway API v1.")

        @OptionGroup var options: ConfigOptions

        @Option(name: .long, help: "HOST/PREFIX the images are pushed to (image names are rewritten to it).")
        var registry: String?

        @Option(name: .long, help: "The namespace of every object.")
        var namespace: String?

        @Option(name: .long, help: "The Gateway's gatewayClassName.")
        var gatewayClass = "default"

        @Option(name: .shortAndLong, help: "The output directory (created).")
        var output: String

        @Flag(name: .long, help: "Run the pushes the manifests expect (berth push each image to --registry).")
        var push = false

        @Option(name: .customLong("insecure-registry"), help: "HOST[:PORT] spoken to over plain HTTP by --push (repeatable).")
        var insecureRegistries: [String] = []

        func run() throws {
            let config = try options.load()
            var opts = ExportOptions(registry: registry, namespace: namespace)
            opts.gatewayClass = gatewayClass
            var exporter = KubernetesExporter(config: config, options: opts)
            let export: Export
            do {
                export = try exporter.run()
            } catch {
                printError("export failed, nothing written: \(error)")
                throw ExitCode(1)
            }
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for f in export.files {
                let path = (output as NSString).appendingPathComponent(f.name)
                // Secrets are in these files: readable by their owner only.
                guard FileManager.default.createFile(atPath: path, contents: Data(f.text.utf8), attributes: [.posixPermissions: 0o600]) else {
                    printError("cannot write \(path)")
                    throw ExitCode(1)
                }
            }
            for w in export.warnings { printError("export: \(w)") }
            printOut("wrote \(export.files.count) files to \(output) (kubectl apply -k \(output))")
            if push {
                let store = try options.openStore()
                let pusher = ImagePush(store: store, insecure: options.insecureRegistries(insecureRegistries), output: { printOut($0) })
                for p in export.pushes {
                    do {
                        _ = try pusher.push(p.local, to: p.remote)
                    } catch {
                        printError("berth: push of \(p.local) failed: \(error)")
                        throw ExitCode(1)
                    }
                }
            } else if !export.pushes.isEmpty {
                printOut("the manifests expect these images; push them with:")
                for p in export.pushes { printOut("  berth push \(p.local) \(p.remote)") }
            }
        }
    }
}

import ArgumentParser
import BerthProxy

/// The `berth` command: one subcommand per verb, each in its own file.
@main
struct Berth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Host many web apps on one machine: build, run and route them from one proxy.conf.",
        version: BuildInfo.version,
        subcommands: [Serve.self, Shim.self, Reload.self, Upgrade.self, Stop.self, Ps.self, Certs.self, Logs.self, Check.self, Build.self, Pull.self, Run.self, Images.self, History.self, VolumeCommand.self, Inspect.self, Rmi.self, Prune.self, ImageCommand.self, DockerfileCommand.self, ExportCommand.self, Push.self, Tag.self]
    )
}

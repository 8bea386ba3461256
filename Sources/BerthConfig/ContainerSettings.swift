/// The settings of a container app that shape its containers: a change to
/// any of them needs new containers (a redeploy); the others — path, host,
/// strip-prefix, balance, health, redirect-https — change routing only.
public struct ContainerSettings: Sendable, Equatable {
    public var build: String?
    public var image: String?
    public var dockerfile: String?
    public var port: Int?
    public var replicas: Int
    public var network: AppConfig.Network
    public var seccomp: AppConfig.Seccomp
    public var volumes: [VolumeMount]
    public var mounts: [HostMount]
    public var command: [String]?
    public var envFileVars: [EnvVar]
    public var secrets: [SecretFile]
    public var memory: Int?
    public var cpus: Double?
    public var env: [EnvVar]
    /// Links set environment variables (NAME_HOST, NAME_PORT) in the containers.
    public var links: [AppLink]

    public init(_ app: AppConfig) {
        build = app.build
        image = app.image
        dockerfile = app.dockerfile
        port = app.port
        replicas = app.replicas
        network = app.network
        seccomp = app.seccomp
        volumes = app.volumes
        mounts = app.mounts
        command = app.command
        envFileVars = app.envFileVars
        secrets = app.secrets
        memory = app.memory
        cpus = app.cpus
        env = app.env
        links = app.links
    }
}

extension AppConfig {
    /// What shapes this app's containers.
    public var containerSettings: ContainerSettings { ContainerSettings(self) }
}

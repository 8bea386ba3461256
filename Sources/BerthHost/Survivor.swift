import BerthConfig
import BerthImage
import Foundation

/// A replica an earlier serve started whose container still runs under its
/// keeper: a new serve adopts it when it would start the same container
/// (same app and replica number, same image id, same container settings),
/// and stops it otherwise.
public struct Survivor: Sendable, Equatable {
    public var id: String
    public var app: String
    public var number: Int
    public var version: Int
    public var imageID: String
    /// `Survivor.digest(of:)` of the settings it was started with.
    public var settings: String
    /// The port it listens on (chosen by serve for a `network host` app).
    public var port: Int?

    public init(id: String, app: String, number: Int, version: Int, imageID: String, settings: String, port: Int?) {
        self.id = id
        self.app = app
        self.number = number
        self.version = version
        self.imageID = imageID
        self.settings = settings
        self.port = port
    }

    /// Whether it runs what replica `number` of `app` from `imageID` would.
    public func matches(_ app: AppConfig, number: Int, imageID: String) -> Bool {
        self.app == app.name && self.number == number && self.imageID == imageID && settings == Self.digest(of: app)
    }

    /// A digest of the settings that shape an app's containers.
    public static func digest(of app: AppConfig) -> String {
        SHA256.hex(String(describing: ContainerSettings(app)))
    }

    /// The labels a keeper's spec carries for it.
    var labels: [String: String] {
        var l = ["app": app, "number": "\(number)", "version": "\(version)", "image": imageID, "settings": settings]
        if let port { l["port"] = "\(port)" }
        return l
    }

    /// Read back from a keeper's labels (nil when they are not berth serve's).
    init?(id: String, labels l: [String: String]) {
        guard let app = l["app"], let n = l["number"].flatMap(Int.init), let v = l["version"].flatMap(Int.init),
              let image = l["image"], let settings = l["settings"] else { return nil }
        self.init(id: id, app: app, number: n, version: v, imageID: image, settings: settings, port: l["port"].flatMap(Int.init))
    }
}

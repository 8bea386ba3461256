// swift-tools-version:6.0
import PackageDescription

/// The data plane's release builds skip Swift's dynamic exclusivity checks
/// (on a class-heavy event loop they cost ~40% of the instructions per request,
/// measured with callgrind) and let BerthProxy inline BerthHTTP's buffer calls.
/// Debug builds, which the tests run, keep the checks on.
let hotPath: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C shims, one per concern, each linking only its library.
        // libev's macro API.
        .target(name: "CBerthEV", linkerSettings: [.linkedLibrary("ev")]),
        // TLS termination (OpenSSL): contexts, sessions, ticket keys.
        .target(name: "CBerthTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // SHA-256, random bytes, and ACME's keys, ES256 and CSRs (libcrypto).
        .target(name: "CBerthCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        // HTTP requests through libcurl (registry pulls, ACME).
        .target(name: "CBerthCurl", linkerSettings: [.linkedLibrary("curl")]),
        // System calls Swift's Glibc module does not reach. No library.
        .target(name: "CBerthSystem"),
        // libnghttp2's headers (HTTP/2 framing, HPACK, flow control).
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        // libarchive's headers (tar/gzip layers).
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // HTTP/1.1 heads, validation, chunked codec. No I/O.
        .target(name: "BerthHTTP", swiftSettings: hotPath),
        // proxy.conf → Config, with file:line:col errors.
        .target(name: "BerthConfig"),
        // The one thread helper (checked pthread_create).
        .target(name: "BerthThreads"),
        // The contract between the control plane and the data plane:
        // placements, app routing, the DataPlane protocol. No I/O.
        .target(name: "BerthRouting", dependencies: ["BerthConfig"]),
        // OCI bundles, overlay mounts, runc.
        .target(name: "BerthRuntime", dependencies: ["CBerthSystem", "BerthThreads"]),
        // Dockerfiles, image store, builds.
        .target(name: "BerthImage", dependencies: ["CBerthCurl", "CBerthCrypto", "CBerthSystem", "CArchive", "BerthRuntime"]),
        // An ACME (RFC 8555) client: accounts, orders, challenges, certificates.
        .target(name: "BerthACME", dependencies: ["CBerthCrypto", "CBerthCurl"]),
        // `berth export kubernetes`: proxy.conf as Kubernetes and Gateway API manifests.
        .target(name: "BerthKubernetes", dependencies: ["BerthConfig"]),
        // Event loops, connections, routing, balancing, access log.
        .target(
            name: "BerthProxy",
            dependencies: [
                "CBerthEV", "CBerthTLS", "CBerthCrypto", "CBerthSystem", "CNGHTTP2", "BerthHTTP", "BerthConfig", "BerthRouting", "BerthThreads",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        // The control plane: apps' images, containers and placements. It
        // reaches the proxy only through BerthRouting's DataPlane.
        .target(
            name: "BerthHost",
            dependencies: ["BerthConfig", "BerthRouting", "BerthImage", "BerthRuntime", "BerthThreads", "BerthACME",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "berth",
            dependencies: [
                "CBerthSystem", "BerthConfig", "BerthRouting", "BerthProxy", "BerthImage", "BerthRuntime", "BerthHost", "BerthACME", "BerthKubernetes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "CBerthTests", dependencies: ["CBerthEV", "CBerthCrypto"]),
        .testTarget(name: "BerthHTTPTests", dependencies: ["BerthHTTP"]),
        .testTarget(name: "BerthConfigTests", dependencies: ["BerthConfig"]),
        .testTarget(name: "BerthKubernetesTests", dependencies: ["BerthKubernetes", "BerthConfig"], exclude: ["Golden"]),
        .testTarget(name: "BerthImageTests", dependencies: ["BerthImage", "BerthRuntime", "CBerthSystem", "BerthKubernetes", "BerthConfig"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BerthRuntimeTests", dependencies: ["BerthRuntime"], exclude: ["Fixtures"]),
        .testTarget(name: "BerthHostTests", dependencies: ["BerthHost", "BerthRouting", "BerthImage", "BerthConfig", "BerthRuntime"]),
        .testTarget(name: "BerthThreadsTests", dependencies: ["BerthThreads"]),
        // Real servers tests share (pebble).
        .target(name: "BerthTestSupport", path: "Tests/BerthTestSupport"),
        .testTarget(name: "BerthACMETests", dependencies: ["BerthACME", "BerthTestSupport"]),
        .testTarget(
            name: "BerthProxyTests",
            dependencies: ["BerthProxy", "BerthRouting", "BerthConfig", "BerthHTTP"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "berthTests", dependencies: ["berth", "BerthTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

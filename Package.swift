// swift-tools-version:6.1
//
// keepalived-tune: keeps a host's TCP keepalive tuning in force.
//
// Layers, one target each; dependencies point toward the model:
//
//   keepalived-tune (CLI) ─┬─> KeepaliveDaemon ─┬─> KeepaliveOS ──┬─> KeepaliveModel
//                          │                    │                 ├─> CLinux (signalfd)
//                          │                    │                 ├─> CLibbpf (libbpf, dlopened)
//                          │                    │                 └─> KeepaliveBPF (the kernel programs)
//                          │                    ├─> KeepaliveModel
//                          │                    └─> SystemdKit ──> CSystemd (libsystemd)
//                          └─> KeepaliveOS
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "keepalived-tune",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "keepalived-tune", targets: ["KeepalivedTuneCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure model: tunables, profiles, parsing, include-merging, validation, plans, diffs. No I/O.
        .target(
            name: "KeepaliveModel",
            exclude: [],
            resources: [.embedInCode("Profiles")],
            swiftSettings: strict
        ),
        // libsystemd through a module map; only SystemdKit imports it.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // sd_notify, the watchdog and the native journal protocol, in Swift.
        .target(
            name: "SystemdKit",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Linux calls Swift's Glibc module does not export (signalfd).
        .target(name: "CLinux"),
        // libbpf through dlopen (libbpf1 is a Recommends, never a link dependency), and the
        // map layouts the kernel programs share with Swift (include/kt_bpf_layout.h).
        .target(name: "CLibbpf", linkerSettings: [.linkedLibrary("dl")]),
        // The kernel programs: C source in programs/, built by scripts/build-bpf into the
        // committed Objects/*.bpf.o, embedded in the binary.
        .target(name: "KeepaliveBPF", exclude: ["programs", "README.md"], resources: [.embedInCode("Objects")],
                swiftSettings: strict),
        // The OS shell: /proc/sys access under a configurable root, config and profile files,
        // and the kernel event sources the daemon waits on (inotify, signalfd, poll).
        .target(name: "KeepaliveOS", dependencies: ["KeepaliveModel", "CLinux", "CLibbpf", "KeepaliveBPF"],
                swiftSettings: strict),
        // The long-running service (`keepalived-tune run`).
        .target(
            name: "KeepaliveDaemon",
            dependencies: [
                "KeepaliveModel", "KeepaliveOS", "SystemdKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The `keepalived-tune` command line.
        .executableTarget(
            name: "KeepalivedTuneCLI",
            dependencies: [
                "KeepaliveModel", "KeepaliveOS", "KeepaliveDaemon",
            ],
            path: "Sources/keepalived-tune",
            swiftSettings: strict
        ),

        // Test support: namespaces (C, needs _GNU_SOURCE), temp dirs, child processes.
        .target(name: "CTestSupport", path: "Tests/Support/CTestSupport"),
        // Per-thread capabilities, for the BPF tests' EPERM paths.
        .target(name: "CTestCapabilities", path: "Tests/Support/CTestCapabilities"),
        .target(
            name: "KeepaliveTestKit",
            dependencies: ["CTestSupport", "KeepaliveModel", "KeepaliveOS"],
            path: "Tests/Support/KeepaliveTestKit",
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeepaliveModelTests",
            dependencies: ["KeepaliveModel", "KeepaliveTestKit"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeepaliveOSTests",
            dependencies: ["KeepaliveOS", "KeepaliveModel", "KeepaliveBPF", "KeepaliveTestKit", "CTestCapabilities"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SystemdKitTests",
            dependencies: ["SystemdKit", "KeepaliveTestKit", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeepaliveDaemonTests",
            dependencies: ["KeepaliveDaemon", "KeepaliveModel", "KeepaliveOS", "KeepaliveTestKit",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "InMemoryLogging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeepalivedTuneCLITests",
            dependencies: ["KeepalivedTuneCLI", "KeepaliveModel", "KeepaliveTestKit"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)

import Foundation
import KeepaliveTestKit

/// A container root file system with busybox (`sh`, `sleep`, `cat`) and nothing else: what
/// the podman and docker tests run, with no image registry.
final class BusyboxRoot: @unchecked Sendable {
    private let directory: TemporaryDirectory
    /// Its absolute path.
    var path: String { directory.path }

    init() throws {
        directory = try TemporaryDirectory("kt-busybox-root")
        for name in ["bin", "proc", "sys", "dev", "etc", "tmp"] { try directory.makeDirectory(name) }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: directory.url("bin/busybox"))
        for tool in ["sh", "sleep", "cat"] { try FileManager.default.createSymbolicLink(atPath: directory.url("bin/\(tool)"), withDestinationPath: "busybox") }
    }

    /// Why no such root can be made here, or `nil`.
    static var unavailableReason: String? {
        FileManager.default.fileExists(atPath: "/bin/busybox") ? nil : "/bin/busybox is missing (apt-get install busybox-static)"
    }
}

/// Runs `arguments` with its output in `log`, its stdin from /dev/null, and none of this
/// process's other descriptors: a daemon it leaves behind (conmon, dockerd) must hold none
/// of the pipes a test reads to their end.
func runDetached(_ arguments: [String], log: String) throws -> ChildProcess.Result {
    try ChildProcess.run(["bash", "-c", """
        log=$1; shift
        for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
        exec "$@" > "$log" 2>&1 < /dev/null
        """, "bash", log] + arguments)
}

/// `time/intvl/probes` in the network namespace of process `pid` (a container's).
func keepaliveValues(ofPID pid: String) throws -> String {
    let result = try ChildProcess.run(["nsenter", "-t", pid, "-n", "--", "cat", "/proc/sys/net/ipv4/tcp_keepalive_time",
                                       "/proc/sys/net/ipv4/tcp_keepalive_intvl", "/proc/sys/net/ipv4/tcp_keepalive_probes"])
    return result.stdout.split(separator: "\n").joined(separator: "/")
}

/// A container a test started: its name and the PID of its process (for nsenter).
struct TestContainer {
    let name: String
    let pid: String
}

/// Why containers cannot be run here: not root, one of `tools` missing (installed by
/// `packages`), or no busybox; `nil` if they can.
func containerUnavailableReason(_ tools: [String], packages: String) -> String? {
    if geteuid() != 0 { return "containers need root here" }
    for tool in tools where ChildProcessLookup.path(of: tool) == nil { return "\(tool) is not installed (apt-get install \(packages))" }
    return BusyboxRoot.unavailableReason
}

/// A name prefix of a test's own (`kt-test-RANDOM`), so its rules match only its containers.
func testNamePrefix() -> String { "kt-test-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))" }

/// The daemon's config for a container test: `web` for the containers `selector` names,
/// checked and rescanned every second.
func containerRulesConfig(web selector: String) -> String {
    serverConfig + """
        check-interval = 1s
        [namespaces]
        manage = matching
        rescan-interval = 1s
        [namespaces.rules]
        web = \(selector)

        """
}

import Foundation
import KeepaliveTestKit
import Testing

/// Real podman containers (runc, a busybox root, no registry) under `[namespaces]`. The
/// rules name only this test's containers (`kt-test-SUFFIX-*`); each container is removed
/// when the test ends. The daemon finds them as it would on a host: by the /proc rescan,
/// the container's cgroup (`libpod-ID`) and podman's own files.
@Suite("Podman containers under the daemon", .serialized,
       .enabled(if: PodmanContainers.unavailableReason == nil, Comment(rawValue: PodmanContainers.unavailableReason ?? "")))
struct PodmanNamespacesTests {
    @Test func aMatchingContainerGetsItsProfileAndAnExplicitValueIsKept() throws {
        let podman = try PodmanContainers()
        defer { podman.removeAll() }
        let daemon = try DaemonUnderTest.started(config: containerRulesConfig(web: "podman:\(podman.prefix)-web-*"))

        let other = try podman.run("other")
        let plain = try podman.run("web-plain")
        let explicit = try podman.run("web-explicit", sysctls: ["net.ipv4.tcp_keepalive_time=600"])

        let adopted = try #require(daemon.waitForEvent("namespace-adopted") { $0["CONTAINER"] == plain.name }, "\(daemon.journalText)")
        #expect(adopted.entry["PROFILE"] == "web" && adopted.entry["KIND"] == "podman" && adopted.entry["NAME"] == plain.name)
        #expect(try podman.values(plain) == "1800/15/3")

        let kept = try #require(daemon.waitForEvent("explicit-value-kept") { $0["CONTAINER"] == explicit.name }, "\(daemon.journalText)")
        #expect(kept.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time" && kept.entry["ACTUAL"] == "600")
        _ = try #require(daemon.waitForEvent("namespace-adopted") { $0["CONTAINER"] == explicit.name })
        #expect(try podman.values(explicit) == "600/15/3")

        // Drift written through a procfs of its own (as a container's is: inotify cannot see
        // it) is found by the re-read and corrected; the kept key is not touched.
        try podman.writeThroughOwnProcfs(explicit, "echo 75 > /mnt/sys/net/ipv4/tcp_keepalive_intvl; echo 601 > /mnt/sys/net/ipv4/tcp_keepalive_time")
        let corrected = try #require(daemon.waitForEvent("corrected") { $0["CONTAINER"] == explicit.name }, "\(daemon.journalText)")
        #expect(corrected.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_intvl")
        #expect(try podman.values(explicit) == "601/15/3")

        // Never touched: the container no rule names.
        #expect(try podman.values(other) == "7200/75/9")
        #expect(!daemon.journal.all.contains { $0["CONTAINER"] == other.name })

        // Removed: its namespace ends, and its state goes.
        podman.remove(plain)
        _ = try #require(daemon.waitForEvent("namespace-gone") { $0["CONTAINER"] == plain.name }, "\(daemon.journalText)")
    }
}

/// Podman containers a test starts from a busybox root, all named `PREFIX-…`, and removes.
final class PodmanContainers: @unchecked Sendable {
    typealias Container = TestContainer

    static var unavailableReason: String? { containerUnavailableReason(["podman", "runc", "nsenter"], packages: "podman runc busybox-static") }

    let prefix = testNamePrefix()
    private let scratch: TemporaryDirectory
    private let root: BusyboxRoot
    private var started: [String] = []

    init() throws {
        scratch = try TemporaryDirectory("kt-podman")
        root = try BusyboxRoot()
    }

    /// Starts `PREFIX-suffix` running `sleep 600`, with `--sysctl` for each of `sysctls`.
    func run(_ suffix: String, sysctls: [String] = []) throws -> Container {
        let name = "\(prefix)-\(suffix)"
        started.append(name)
        // conmon, which outlives `podman run -d`, inherits podman's descriptors: give it a
        // file, and none of the pipes this test process reads to their end.
        let log = scratch.url("\(name).log")
        let result = try runDetached(["podman", "--runtime", "runc", "run", "-d", "--ulimit", "nofile=20000:20000",
                                      "--ulimit", "nproc=1000:1000", "--name", name]
                                     + sysctls.flatMap { ["--sysctl", $0] } + ["--rootfs", root.path, "/bin/sleep", "600"], log: log)
        guard result.status == 0 else {
            throw PodmanError(message: "podman run \(name): \(result) \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let pid = try ChildProcess.run(["podman", "inspect", name, "--format", "{{.State.Pid}}"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Container(name: name, pid: pid)
    }

    /// `time/intvl/probes` inside the container's network namespace.
    func values(_ container: Container) throws -> String { try keepaliveValues(ofPID: container.pid) }

    /// Runs `script` in the container's network namespace with a procfs of its own at
    /// /mnt (podman mounts the container's /proc/sys read-only).
    func writeThroughOwnProcfs(_ container: Container, _ script: String) throws {
        let result = try ChildProcess.run(["nsenter", "-t", container.pid, "-n", "--", "unshare", "-m", "sh", "-c",
                                           "mount -t proc proc /mnt && { \(script); }"])
        guard result.status == 0 else { throw PodmanError(message: "write through a procfs of its own: \(result)") }
    }

    func remove(_ container: Container) {
        _ = try? ChildProcess.run(["podman", "rm", "-f", "-t", "0", container.name])
    }

    /// Removes every container this instance started.
    func removeAll() {
        for name in started { _ = try? ChildProcess.run(["podman", "rm", "-f", "-t", "0", name]) }
    }

    struct PodmanError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

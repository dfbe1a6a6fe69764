import Foundation
import KeepaliveTestKit
import Testing

/// Real docker containers under `[namespaces]`: a dockerd the test starts in the daemon's
/// private mount namespace (its own `/run`, and a tmpfs over `/etc/docker` whose
/// `daemon.json` moves docker's data root into the test's directory), an image imported
/// from a busybox root (no registry), and rules that name only this test's containers.
/// The daemon finds them as on a host: docker's pin under `/run/docker/netns`, and docker's
/// own files under the `data-root` that `daemon.json` names.
@Suite("Docker containers under the daemon", .serialized,
       .enabled(if: DockerEngine.unavailableReason == nil, Comment(rawValue: DockerEngine.unavailableReason ?? "")))
struct DockerNamespacesTests {
    @Test func aMatchingContainerGetsItsProfileAndAnExplicitValueIsKept() throws {
        let prefix = testNamePrefix()
        let daemon = try DaemonUnderTest.started(config: containerRulesConfig(web: "docker:\(prefix)-web-*"))
        let docker = try DockerEngine(prefix: prefix, mountNamespaceOf: daemon)
        defer { docker.stop() }

        let other = try docker.run("other")
        let plain = try docker.run("web-plain")
        let explicit = try docker.run("web-explicit", sysctls: ["net.ipv4.tcp_keepalive_time=600"])

        let adopted = try #require(daemon.waitForEvent("namespace-adopted") { $0["CONTAINER"] == plain.name }, "\(daemon.journalText)")
        #expect(adopted.entry["PROFILE"] == "web" && adopted.entry["KIND"] == "docker" && adopted.entry["NAME"] == plain.name)
        #expect(adopted.entry["NETNS_NAME"] == nil)   // docker's pin is not an `ip netns` name
        #expect(try keepaliveValues(ofPID: plain.pid) == "1800/15/3")

        let kept = try #require(daemon.waitForEvent("explicit-value-kept") { $0["CONTAINER"] == explicit.name }, "\(daemon.journalText)")
        #expect(kept.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time" && kept.entry["ACTUAL"] == "600")
        _ = try #require(daemon.waitForEvent("namespace-adopted") { $0["CONTAINER"] == explicit.name })
        #expect(try keepaliveValues(ofPID: explicit.pid) == "600/15/3")

        // Never touched: the container no rule names.
        #expect(try keepaliveValues(ofPID: other.pid) == "7200/75/9")
        #expect(!daemon.journal.all.contains { $0["CONTAINER"] == other.name })

        // Removed: docker unmounts its pin, the namespace ends, and its state goes.
        docker.remove(plain)
        _ = try #require(daemon.waitForEvent("namespace-gone") { $0["CONTAINER"] == plain.name }, "\(daemon.journalText)")
    }
}

/// A dockerd of the test's own, in the mount namespace of a ``DaemonUnderTest`` (whose
/// `/run` is private): containers named `PREFIX-…`, all removed, and dockerd stopped, by
/// ``stop()``.
final class DockerEngine: @unchecked Sendable {
    typealias Container = TestContainer

    static var unavailableReason: String? {
        if !FileManager.default.fileExists(atPath: "/etc/docker") { return "/etc/docker is missing (apt-get install docker.io)" }
        return containerUnavailableReason(["dockerd", "docker", "nsenter"], packages: "docker.io busybox-static")
    }

    let prefix: String
    private let scratch: TemporaryDirectory
    private var socket: String { scratch.url("docker.sock") }
    private var image: String { "\(prefix)-busybox" }
    private var dockerd: Int32?
    private var started: [String] = []

    /// Starts dockerd and imports the busybox image; throws (with dockerd's log) if dockerd
    /// does not answer within a minute.
    init(prefix: String, mountNamespaceOf daemon: DaemonUnderTest) throws {
        self.prefix = prefix
        scratch = try TemporaryDirectory("kt-docker")
        try scratch.makeDirectory("data")
        // No bridge and no iptables: the containers run with `--network none`, and nothing of
        // the host's network is touched. vfs needs no overlay support from the kernel.
        let result = try runDetached(daemon.nsenterPrefix + ["bash", "-c", """
            mount -t tmpfs tmpfs /etc/docker || exit 1
            printf '{"data-root": "%s"}\\n' "$1" > /etc/docker/daemon.json
            dockerd -H "unix://$2" --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs &
            echo $! > "$3"
            """, "bash", scratch.url("data"), socket, scratch.url("dockerd.pid")], log: scratch.url("dockerd.log"))
        dockerd = (try? scratch.read("dockerd.pid")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard result.status == 0, dockerd != nil else { throw failure("dockerd did not start: \(result)") }
        try awaitAnswer()
        let root = try BusyboxRoot()
        let imported = try ChildProcess.run(["bash", "-c", "tar -C \"$1\" -c . | docker -H \"unix://$2\" import - \"$3\"",
                                             "bash", root.path, socket, image])
        guard imported.status == 0 else { throw failure("docker import: \(imported)") }
    }

    /// Waits (up to a minute, for a busy machine) until dockerd answers on its socket.
    private func awaitAnswer() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: socket), (try? docker(["version"]))?.status == 0 { return }
            guard let dockerd, kill(dockerd, 0) == 0 else { throw failure("dockerd exited") }
            usleep(50_000)
        }
        throw failure("dockerd did not answer on \(socket) within 60 s")
    }

    private func docker(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(["docker", "-H", "unix://\(socket)"] + arguments)
    }

    /// Starts `PREFIX-suffix` running `sleep 600` in a namespace of its own
    /// (`--network none`), with `--sysctl` for each of `sysctls`.
    func run(_ suffix: String, sysctls: [String] = []) throws -> Container {
        let name = "\(prefix)-\(suffix)"
        started.append(name)
        let result = try docker(["run", "-d", "--network", "none", "--name", name] + sysctls.flatMap { ["--sysctl", $0] }
                                + [image, "/bin/sleep", "600"])
        guard result.status == 0 else { throw failure("docker run \(name): \(result)") }
        let pid = try docker(["inspect", name, "--format", "{{.State.Pid}}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return Container(name: name, pid: pid)
    }

    func remove(_ container: Container) {
        _ = try? docker(["rm", "-f", container.name])
    }

    /// Removes every container this instance started, then stops dockerd (and the
    /// containerd it runs) and waits for it to exit.
    func stop() {
        for name in started { _ = try? docker(["rm", "-f", name]) }
        _ = try? docker(["image", "rm", "-f", image])
        guard let dockerd else { return }
        kill(dockerd, SIGTERM)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, Self.alive(dockerd) { usleep(20_000) }
        if Self.alive(dockerd) { kill(dockerd, SIGKILL) }
        self.dockerd = nil
    }

    /// Whether `pid` still runs (a zombie waiting for its reaper has ended).
    private static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    private func failure(_ message: String) -> DockerError {
        DockerError(message: message + "\ndockerd's log:\n" + ((try? scratch.read("dockerd.log")) ?? ""))
    }

    struct DockerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

import Foundation

/// A world of its own for tests of the units cgroup paths name (issue 32): a cgroup2 hierarchy
/// the test mounts itself, in a private mount namespace, and a cgroup the test makes there as
/// the root of new cgroup, PID, network and mount namespaces (`Tests/Fixtures/cgroups/world.sh`).
///
/// Inside, a scenario makes cgroups laid out as systemd lays out a host's (`system.slice/...`,
/// `user.slice/user-1000.slice/user@1000.service/...`) and starts processes in them; the code
/// under test reads them at `/sys/fs/cgroup/unified`, as it would on a host. The host's cgroups
/// and processes are never in view. The world's processes end with its PID namespace, and every
/// cgroup it made is removed afterwards, also when the scenario fails.
public enum CgroupWorld {
    /// Why a world cannot be made here, or `nil` if it can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "mounting cgroup2 and moving processes between cgroups need root" }
        for tool in ["unshare", "nsenter", "python3", "ip", "find"] where ChildProcessLookup.path(of: tool) == nil {
            return "\(tool) is not installed"
        }
        guard let directory = try? TemporaryDirectory("kt-world-probe"),
              let result = try? run("echo ok > \"$O/probe\"", in: directory) else { return "the world's script cannot run" }
        return result.status == 0 && (try? directory.read("probe")) == "ok\n" ? nil
            : "a cgroup2 world cannot be made here (cgroup2 or cgroup namespaces missing?): \(result)"
    }()

    /// Runs `scenario` (bash) in a fresh world, with the files it writes in `directory`.
    ///
    /// The scenario has `$O` (`directory`), `$R` (its cgroup root), `$B` (the built
    /// `keepalived-tune`), `cg PATH...` to make cgroups, and `member NAME CGROUP NET [PORT]` to
    /// start a process in a cgroup, in a network namespace of its own (`new`), of another
    /// process (its PID) or the world's (`here`), optionally holding a loopback TCP connection
    /// on PORT; it returns once the process is in place, with its PID in `$NAME` and in
    /// `$O/NAME.pid`. Exit 95 means a cgroup could not be removed.
    public static func run(_ scenario: String, in directory: TemporaryDirectory) throws -> ChildProcess.Result {
        let script = try directory.write("scenario.sh", scenario)
        return try ChildProcess.run(["unshare", "-m", "--propagation", "private", "bash",
                                     FileList.packageRoot + "/Tests/Fixtures/cgroups/world.sh",
                                     directory.path, script, ChildProcess.keepalivedTune])
    }
}

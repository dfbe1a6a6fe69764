import Foundation
import KeepaliveTestKit
import Testing

@Suite("apply, verify and status against a fake sysctl root")
struct ApplyVerifyTests {
    @Test func applyPrintsEachChangeThenVerifyAndStatusAgree() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n")
        let apply = try harness.run("apply")
        #expect(apply.status == 0, "\(apply)")
        #expect(apply.stdout == """
            net.ipv4.tcp_keepalive_time: 7200 -> 1800
            net.ipv4.tcp_keepalive_intvl: 75 -> 30
            net.ipv4.tcp_keepalive_probes: 9 -> 3
            profile server in force: 1800/30/3

            """)
        #expect(try harness.sysctl.compact() == "1800/30/3")
        #expect(try harness.run("verify").status == 0)

        try harness.sysctl.set("tcp_keepalive_time", 7200)
        let verify = try harness.run("verify")
        #expect(verify.status == 1)
        #expect(verify.stdout.hasPrefix("net.ipv4.tcp_keepalive_time: expected 1800, actual 7200\n"))

        let status = try harness.run("status", "--json")
        #expect(status.status == 0)
        let json = try #require(try CLIHarness.json(status) as? [String: Any])
        #expect(json["name"] as? String == "server")
        #expect(json["drift"] as? Bool == true)
        #expect((json["expected"] as? [String: Int])?["tcp_keepalive_time"] == 1800)
        #expect((json["actual"] as? [String: Int])?["tcp_keepalive_time"] == 7200)
        #expect(json["detection_seconds"] as? Int == 1890)
    }

    /// Issue 19 #10: values the sysctls accept but keepalive cannot use as meant are
    /// described as what the kernel does with them, not as "-1 s".
    @Test(arguments: [
        (0, "tcp_keepalive_time 0 starts probing as soon as a connection is idle"),
        (-1, "practically never: a negative tcp_keepalive_time (-1) puts the first probe about 49.7 days"),
    ])
    func statusSaysWhatOutOfRangeKernelValuesMean(time: Int, detail: String) throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n")
        try harness.sysctl.set("tcp_keepalive_time", time)
        let status = try harness.run("status")
        #expect(status.status == 0)
        let line = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("dead peers found after:") })
        #expect(!line.contains("-1 s"), "\(line)")
        #expect(line.contains(detail), "\(line)")
        let json = try #require(try CLIHarness.json(harness.run("status", "--json")) as? [String: Any])
        #expect((json["actual_detection"] as? String)?.contains(detail) == true)
        #expect(time == 0 ? json["actual_detection_seconds"] as? Int == 675 : json["actual_detection_seconds"] == nil)
    }

    @Test func applyByNameIgnoresTheConfigOverrides() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 5\n")
        #expect(try harness.run("apply", "web").status == 0)
        #expect(try harness.sysctl.compact() == "1800/15/3")
        #expect(try harness.run("apply").status == 0)
        #expect(try harness.sysctl.compact() == "1800/30/5")
        let again = try harness.run("apply")
        #expect(again.stdout.contains("already in force, nothing written"))
    }

    @Test func anUnwritableRootIsASystemFailureWithExit3() throws {
        let harness = try CLIHarness()
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "apply", "server", "--profile-dir", harness.profileDirectory,
                                           "--sysctl-root", harness.directory.url("no-such-root")])
        #expect(result.status == 3)
        #expect(result.stderr.contains("cannot take the apply lock \(harness.directory.url("no-such-root"))/.keepalived-tune/apply.lock, so nothing was written: No such file or directory (ENOENT)"), "\(result)")
    }

    @Test func statusHumanOutputShowsExpectedKernelAndDrift() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = web\n")
        let status = try harness.run("status")
        #expect(status.status == 0)
        #expect(status.stdout.contains("net.ipv4.tcp_keepalive_intvl   15 (15s)      75 (1min 15s)  DRIFT"), "\(status.stdout)")
        #expect(status.stdout.contains("state:    DRIFT (3 of 3 values differ)"))
    }
}

/// The acceptance run: the real /proc/sys in a private network namespace.
@Suite("apply and verify inside unshare -n",
       .enabled(if: UnshareNetwork.unavailableReason == nil, Comment(rawValue: UnshareNetwork.unavailableReason ?? "")))
struct NamespaceTests {
    @Test func applyServerThenVerifyThenDrift() throws {
        let host = HostKeepalive.snapshot()
        let directory = try TemporaryDirectory()
        let config = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        let result = try UnshareNetwork.script("""
            kt() { cmd=$1; shift; \(ChildProcess.keepalivedTune) "$cmd" --config '\(config)' --profile-dir '\(directory.url("none"))' --runtime-dir '\(directory.url("run"))' "$@"; }
            kt apply server; echo "apply=$?"
            echo "values=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)/$(cat /proc/sys/net/ipv4/tcp_keepalive_intvl)/$(cat /proc/sys/net/ipv4/tcp_keepalive_probes)"
            kt verify; echo "verify=$?"
            sysctl -q -w net.ipv4.tcp_keepalive_time=7200
            kt verify; echo "verify=$?"
            """)
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("apply=0"), "\(result)")
        #expect(lines.contains("values=1800/30/3"))
        #expect(lines.filter { $0.hasPrefix("verify=") } == ["verify=0", "verify=1"])
        #expect(lines.contains("net.ipv4.tcp_keepalive_time: expected 1800, actual 7200"))
        #expect(HostKeepalive.snapshot() == host)
    }
}

/// An unprivileged container's view: /proc/sys mounted read-only.
@Suite("A read-only /proc/sys",
       .enabled(if: UnshareNetwork.unavailableReason == nil, Comment(rawValue: UnshareNetwork.unavailableReason ?? "")))
struct ReadOnlyProcSysTests {
    @Test func applyAndRunExit3NamingTheCause() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        let result = try UnshareNetwork.script("""
            mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 90
            kt() { cmd=$1; shift; \(ChildProcess.keepalivedTune) "$cmd" --config '\(config)' --profile-dir '\(directory.url("none"))' --runtime-dir '\(directory.url("run"))' "$@"; }
            kt apply 2>&1; echo "apply=$?"
            kt run --log-target console 2>&1; echo "run=$?"
            echo "values=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
            """, mountNamespace: true)
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("apply=3"), "\(result.stdout)")
        #expect(lines.contains("run=3"), "\(result.stdout)")
        #expect(lines.contains("values=7200"))
        #expect(result.stdout.contains("cannot write 1800 to /proc/sys/net/ipv4/tcp_keepalive_time: Read-only file system (EROFS); /proc/sys is mounted read-only here"))
        #expect(!result.stdout.contains("Fatal error") && !result.stdout.contains("Stack dump"))
    }
}

@Suite("--sysctl-root in a root service")
struct SysctlRootRefusalTests {
    @Test(.enabled(if: geteuid() == 0, "the refusal applies to root only"))
    func refusedUnderSystemdAsRoot() throws {
        let harness = try CLIHarness()
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "run", "--log-target", "console"] + harness.options,
                                          environment: ChildProcess.environment(["INVOCATION_ID": "0123456789abcdef0123456789abcdef"]))
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--sysctl-root \(harness.sysctl.path) is refused in a root service under systemd"))
        #expect(try harness.sysctl.compact() == "7200/75/9")
    }
}

/// Issue 19 #1: two `apply` runs at the same time must not mix two profiles.
@Suite("Concurrent applies")
struct ConcurrentApplyTests {
    /// 150 races of `apply server` against `apply default`, each from values neither
    /// profile has (so both write all three keys): the kernel always ends at exactly one
    /// profile's values.
    @Test func twoAppliesAtOnceNeverMixTwoProfiles() throws {
        let harness = try CLIHarness()
        let script = """
            mixed=0
            for i in $(seq 150); do
              printf '1000\\n' > "$ROOT/net/ipv4/tcp_keepalive_time"
              printf '10\\n' > "$ROOT/net/ipv4/tcp_keepalive_intvl"
              printf '2\\n' > "$ROOT/net/ipv4/tcp_keepalive_probes"
              "$KT" apply server $OPTIONS >/dev/null 2>&1 & a=$!
              "$KT" apply default $OPTIONS >/dev/null 2>&1 & b=$!
              wait $a; wait $b
              v=$(cat "$ROOT/net/ipv4/tcp_keepalive_time" "$ROOT/net/ipv4/tcp_keepalive_intvl" "$ROOT/net/ipv4/tcp_keepalive_probes" | paste -sd/)
              case $v in 1800/30/3|7200/75/9) ;; *) mixed=$((mixed + 1)); echo "mixed: $v" ;; esac
            done
            echo "mixed $mixed"
            """
        let result = try ChildProcess.run(["bash", "-c", script], environment: ChildProcess.environment([
            "ROOT": harness.sysctl.path, "KT": ChildProcess.keepalivedTune,
            "OPTIONS": "--profile-dir \(harness.profileDirectory) --sysctl-root \(harness.sysctl.path)"]))
        #expect(result.stdout.hasSuffix("mixed 0\n"), "\(result.stdout.suffix(400))")
    }
}

import Foundation
import Glibc
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Who changed it (issue 28, first part), in the running daemon: the cgroup_sysctl program
/// under the test's own cgroup and bpffs sees a `sysctl -w` of a keepalive key by a process
/// in a "unit" cgroup, inside the daemon's namespace, and the daemon names the writer before
/// it corrects the value. A write to another key is not reported.
@Suite("Who changed it: sysctl writes seen at the source, in the daemon", .serialized, BPFTestGate.trait)
struct DaemonSysctlWritesTests {
    @Test func aWriterInAUnitCgroupIsNamedAndTheValueCorrected() throws {
        let scene = try BPFScene()
        let daemon = try DaemonUnderTest.started(config: """
            [daemon]
            profile = server
            [bpf]
            cgroup = \(scene.hooked)
            pin = \(scene.place.pins.directory)
            """)
        defer { daemon.crash() }
        #expect(try scene.attached(scene.hooked).count == 1, "in force before READY=1: \(daemon.journalText)")
        let before = daemon.journal.all.count
        // A short-lived writer: it moves itself into web, then exec's sysctl (same PID).
        let writer = try daemon.runInNamespace(["sh", "-c", "echo $$ > \"$0/cgroup.procs\" && sysctl -qw net.ipv4.tcp_fin_timeout=61 && exec sysctl -w net.ipv4.tcp_keepalive_time=7200", scene.web])
        #expect(writer.status == 0, "\(writer)")
        let seen = try #require(daemon.waitForEvent("sysctl-written", from: before), "\(daemon.journalText)")
        #expect(seen.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time" && seen.entry["NEW"] == "7200", "\(seen.entry)")
        #expect(seen.entry["WRITER_COMM"] == "sysctl" && seen.entry["WRITER_UID"] == "0", "\(seen.entry)")
        #expect(seen.entry["WRITER_CGROUP"] == String(try scene.id(scene.web).rawValue), "\(seen.entry)")
        #expect(daemon.waitForEvent("corrected", from: before) != nil, "\(daemon.journalText)")
        #expect(try daemon.values().hasPrefix("1800/"))
        #expect(!daemon.journal.all.dropFirst(before).contains { $0["EVENT"] == "sysctl-written" && $0["SYSCTL"] != "net.ipv4.tcp_keepalive_time" })

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try scene.attached(scene.hooked).isEmpty, "detached")
        #expect(scene.sandbox.pinnedFiles().isEmpty, "no pin left: \(scene.sandbox.pinnedFiles())")
    }
}

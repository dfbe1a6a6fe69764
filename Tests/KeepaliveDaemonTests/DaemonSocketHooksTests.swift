import Foundation
import Glibc
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// `[sockets]` in the running daemon (issue 27): the real daemon attaches the real sock_ops
/// program under the test's own cgroup and bpffs (``BPFScene``), a selected workload's new
/// connections get its profile in the kernel, an unselected one's get nothing, and a clean
/// stop leaves nothing attached or pinned. Without the hooks, `mode = auto` says why once
/// and runs on; `mode = required` refuses to start.
@Suite("Keepalive at connection birth, in the daemon", .serialized, BPFTestGate.trait)
struct DaemonSocketHooksTests {
    /// The profile the rule gives: values no default has.
    static let profile = "[profile]\ninclude = server\n[sysctl]\nnet.ipv4.tcp_keepalive_time = 45\nnet.ipv4.tcp_keepalive_intvl = 6\nnet.ipv4.tcp_keepalive_probes = 2\n"
    static let given: LoopbackSockets.Options = ["SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 45, "TCP_KEEPINTVL": 6, "TCP_KEEPCNT": 2, "TCP_USER_TIMEOUT": 0]
    static let untouched: LoopbackSockets.Options = ["SO_KEEPALIVE": 0, "TCP_KEEPIDLE": 7200, "TCP_KEEPINTVL": 75, "TCP_KEEPCNT": 9, "TCP_USER_TIMEOUT": 0]

    /// A config that hooks `scene`'s web workload (by its cgroup path) with profile web.
    static func config(_ scene: BPFScene, mode: String = "auto", pin: String? = nil) -> String {
        let mount = WorkloadScan.mount(of: scene.hooked, syscalls: .live)
        return """
            [bpf]
            mode = \(mode)
            cgroup = \(scene.hooked)
            pin = \(pin ?? scene.place.pins.directory)
            [sockets]
            keepalive = matching
            [sockets.rules]
            web = cgroup:\(scene.web.dropFirst(mount.count))
            """
    }

    /// The 702's server, with no retrofit: a server in web that never sets SO_KEEPALIVE has
    /// the profile on every accepted connection; a server beside it, in no workload, has
    /// none. SIGTERM detaches the program and removes every pin.
    @Test func aSelectedWorkloadsConnectionsGetItsProfileAndACleanStopLeavesNothing() throws {
        let scene = try BPFScene()
        let daemon = try DaemonUnderTest.started(config: Self.config(scene), profiles: ["web": Self.profile])
        defer { daemon.crash() }
        let hooked = try #require(daemon.waitForEvent("sockets-hooked"), "\(daemon.journalText)")
        #expect(hooked.entry["WORKLOADS"] == "1" && hooked.entry["MECHANISM"] == "sock_ops", "\(hooked.entry)")
        #expect(hooked.entry["MESSAGE"]?.contains("/hooked/web (web)") == true, "\(hooked.entry)")
        #expect(try scene.attached(scene.hooked).filter { $0.contains("sock_ops") }.count == 1)

        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        _ = try sockets.listen("legacy")
        try scene.sandbox.move(sockets.pid, to: scene.other)
        _ = try sockets.listen("plain")
        for _ in 0..<3 {
            #expect(try sockets.connect("legacy").accepted == Self.given)
            #expect(try sockets.connect("plain").accepted == Self.untouched)
        }

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(daemon.waitForEvent("sockets-hooked", where: { $0["WORKLOADS"] == "0" }) != nil, "\(daemon.journalText)")
        #expect(try scene.attached(scene.hooked).isEmpty, "detached")
        #expect(scene.sandbox.pinnedFiles().isEmpty, "no pin left: \(scene.sandbox.pinnedFiles())")
        #expect(try sockets.connect("legacy").accepted == Self.untouched, "no program: nothing given")
    }

    /// Killed, the daemon leaves the program attached through its pin (no gap); started
    /// again, it adopts that link rather than attaching a second program.
    @Test func aKilledDaemonLeavesTheHookAndARestartAdoptsIt() throws {
        let scene = try BPFScene()
        let daemon = try DaemonUnderTest.started(config: Self.config(scene), profiles: ["web": Self.profile])
        defer { daemon.crash() }
        #expect(daemon.waitForEvent("sockets-hooked") != nil, "\(daemon.journalText)")
        #expect(daemon.crash())
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        _ = try sockets.listen("legacy")
        #expect(try sockets.connect("legacy").accepted == Self.given, "no gap while no daemon runs")

        let before = daemon.journal.all.count
        try daemon.startAwaitingReady()
        let adopted = try #require(daemon.waitForEvent("sockets-hooked", from: before), "\(daemon.journalText)")
        #expect(adopted.entry["MESSAGE"]?.contains("adopted") == true, "\(adopted.entry)")
        #expect(try scene.attached(scene.hooked).filter { $0.contains("sock_ops") }.count == 1, "one program, never two")
        #expect(try sockets.connect("legacy").accepted == Self.given)
    }

    /// A reload that gives the rule another profile changes the map in place: the same
    /// link, the next connection has the new values, no moment without a program.
    @Test func aReloadChangesTheProfileInPlace() throws {
        let scene = try BPFScene()
        let daemon = try DaemonUnderTest.started(config: Self.config(scene),
                                                 profiles: ["web": Self.profile, "cloud": Self.profile.replacingOccurrences(of: "time = 45", with: "time = 90")])
        defer { daemon.crash() }
        #expect(daemon.waitForEvent("sockets-hooked") != nil, "\(daemon.journalText)")
        let attached = try scene.attached(scene.hooked)
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        _ = try sockets.listen("legacy")
        #expect(try sockets.connect("legacy").accepted == Self.given)

        let before = daemon.journal.all.count
        try daemon.editConfig(Self.config(scene).replacingOccurrences(of: "web = cgroup:", with: "cloud = cgroup:"))
        let changed = try #require(daemon.waitForEvent("sockets-hooked", from: before), "\(daemon.journalText)")
        #expect(changed.entry["MESSAGE"]?.contains("/hooked/web (cloud)") == true, "\(changed.entry)")
        #expect(try scene.attached(scene.hooked) == attached, "the same program and link")
        let cloud = try sockets.connect("legacy").accepted
        #expect(cloud == Self.given.merging(["TCP_KEEPIDLE": 90]) { $1 }, "\(cloud)")
    }

    /// A pin directory on no bpf file system: `auto` logs one bpf-unavailable naming it and
    /// runs on; `required` exits 3 with the same words.
    @Test func withoutTheHooksAutoFallsBackAndRequiredRefuses() throws {
        let scene = try BPFScene()
        let plain = try TemporaryDirectory("kt-nobpffs")
        let auto = try DaemonUnderTest.started(config: Self.config(scene, pin: plain.url("pins")), profiles: ["web": Self.profile])
        defer { auto.crash() }
        let warning = try #require(auto.waitForEvent("bpf-unavailable"), "\(auto.journalText)")
        #expect(warning.entry["BPF_MISSING"] == "bpffs", "\(warning.entry)")
        #expect(warning.entry["MESSAGE"]?.contains("nothing takes over") == true, "\(warning.entry)")
        #expect(auto.journal.all.filter { $0["EVENT"] == "bpf-unavailable" }.count == 1)
        #expect(try scene.attached(scene.hooked).isEmpty)

        let required = try DaemonUnderTest(config: Self.config(scene, mode: "required", pin: plain.url("pins")), profiles: ["web": Self.profile])
        try required.start()
        #expect(required.waitForExit() == 3)
        let refused = try #require(required.waitForEvent("start-failed"), "\(required.journalText)")
        #expect(refused.entry["BPF_MISSING"] == "bpffs" && refused.entry["MESSAGE"]?.contains("mode = required") == true, "\(refused.entry)")
        #expect(try scene.attached(scene.hooked).isEmpty)
    }
}

import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Every write to a keepalive sysctl seen at the source, with the real program: writers are
/// `sysctl -w` run in the test's cgroups, each in a new network namespace
/// (Tests/Fixtures/bpf/writer.sh), so the host's values are never written.
@Suite("Keepalive sysctl writes seen at the source (BPF cgroup_sysctl)", .serialized, BPFTestGate.trait)
struct SysctlHookTests {
    /// One `sysctl -w` the writer ran.
    struct Write: Equatable {
        let pid: Int32, status: Int, valueAfter: String
    }

    /// What a writer did: each write, and sysctl's messages.
    struct Writer {
        let writes: [Write]
        let stderr: String
    }

    /// Runs writer.sh in `cgroup` for `pairs`; `beforeWriting` runs with each writing
    /// process's PID before it writes.
    static func write(in cgroup: String, _ pairs: [String], beforeWriting: ((Int32) throws -> Void)? = nil) throws -> Writer {
        let script = FileList.packageRoot + "/Tests/Fixtures/bpf/writer.sh"
        let child = try LineChild(["sh", script, cgroup] + (beforeWriting == nil ? [] : ["--wait"]) + pairs, label: "writer.sh")
        var writes: [Write] = []
        for _ in pairs {
            let pid = try #require(Int32(try child.line().dropFirst("pid ".count)))
            if let beforeWriting {
                try beforeWriting(pid)
                child.send("go")
            }
            let words = try child.line().split(separator: " ")
            try #require(words.count == 3 && words[0] == "write", "writer.sh: \(words)")
            writes.append(Write(pid: pid, status: Int(words[1])!, valueAfter: String(words[2])))
        }
        return Writer(writes: writes, stderr: child.standardError())
    }

    /// Whether the hook's descriptor says events wait (poll(2), not waiting).
    static func isReadable(_ hook: SysctlHook) -> Bool {
        var entry = pollfd(fd: hook.readable, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }

    /// A write to an owned key is reported with its writer; reads, other keys and no-op writes are not.
    @Test func aWriteIsReportedWithItsWriterAndOtherKeysAndReadsAreNot() throws {
        let scene = try BPFScene()
        let hook = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy())
        defer { try? hook.detach() }
        #expect(!Self.isReadable(hook))
        let writer = try Self.write(in: scene.web, ["net.ipv4.tcp_keepalive_time=600", "net.ipv4.tcp_fin_timeout=30",
                                                    "net.ipv4.tcp_keepalive_probes=9"])
        #expect(writer.writes.map(\.status) == [0, 0, 0])
        #expect(writer.writes[0].valueAfter == "600")
        #expect(Self.isReadable(hook), "the ring buffer's descriptor is readable")
        let seen = try hook.drain()
        #expect(seen == [SysctlWrite(key: .time, pid: writer.writes[0].pid, uid: 0, cgroup: try scene.id(scene.web),
                                     command: "sysctl", oldValue: "7200", newValue: "600", refused: false)],
                "only the write that changed a keepalive key: not fin_timeout, not probes 9 → 9, not the reads")
        #expect(hook.counters() == SysctlCounters(seen: 1))
        #expect(try hook.drain().isEmpty)
    }

    /// A denied key's write fails with EPERM and is reported; other keys pass; the policy changes in place.
    @Test func aDeniedKeyIsRefusedAndReportedOthersPass() throws {
        let scene = try BPFScene()
        let hook = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy(denied: [.time]))
        defer { try? hook.detach() }
        let writer = try Self.write(in: scene.web, ["net.ipv4.tcp_keepalive_time=600", "net.ipv4.tcp_keepalive_intvl=30",
                                                    "net.ipv4.tcp_fin_timeout=30"])
        #expect(writer.writes[0].status != 0 && writer.writes[0].valueAfter == "7200", "refused: the value never changed")
        #expect(writer.stderr.contains("Operation not permitted"), "\(writer.stderr)")
        #expect(writer.writes[1].status == 0 && writer.writes[1].valueAfter == "30")
        #expect(writer.writes[2].status == 0 && writer.writes[2].valueAfter == "30", "other keys pass")
        let seen = try hook.drain()
        #expect(seen.map(\.key) == [.time, .intvl])
        #expect(seen.map(\.refused) == [true, false])
        #expect(hook.counters() == SysctlCounters(seen: 2, denied: 1))
        try hook.setPolicy(SysctlWritePolicy())
        #expect(try Self.write(in: scene.web, ["net.ipv4.tcp_keepalive_time=600"]).writes[0].valueAfter == "600",
                "the policy changed in place")
    }

    /// The daemon's cgroup and an exempt process write freely and unseen, even to a denied key.
    @Test func exemptWritersPassUnseen() throws {
        let scene = try BPFScene()
        let hook = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy(denied: [.time]),
                                         exemptCgroups: [try scene.id(scene.worker)])
        defer { try? hook.detach() }
        let daemon = try Self.write(in: scene.worker, ["net.ipv4.tcp_keepalive_time=600"])
        #expect(daemon.writes[0].valueAfter == "600", "a writer in an exempt cgroup (the daemon's unit)")
        let apply = try Self.write(in: scene.web, ["net.ipv4.tcp_keepalive_time=900"]) { pid in
            try hook.setExempt(cgroups: [try scene.id(scene.worker)], processes: [pid])
        }
        #expect(apply.writes[0].valueAfter == "900", "an exempt process (keepalived-tune apply)")
        #expect(try hook.drain().isEmpty)
        #expect(hook.counters() == SysctlCounters())
    }

    /// A one-page ring buffer overflows: every write happens, the lost events are counted.
    @Test func aFullRingBufferLosesEventsNeverWritesAndCountsTheLoss() throws {
        let scene = try BPFScene()
        let hook = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy(), ringBytes: 4096)
        defer { try? hook.detach() }
        let pairs = (1...100).map { "net.ipv4.tcp_keepalive_time=\(600 + $0)" }
        let writer = try Self.write(in: scene.web, pairs)
        #expect(writer.writes.last?.valueAfter == "700", "every write happened")
        let drained = try hook.drain()
        let counters = hook.counters()
        #expect(counters.seen == 100)
        #expect(counters.dropped > 0, "a page holds about 40 events")
        #expect(UInt64(drained.count) + counters.dropped == 100)
        #expect(drained.first?.newValue == "601", "the oldest are kept")
    }

    /// Writes made while no loader runs wait in the pinned ring buffer for the next one.
    @Test func eventsWrittenWhileNoLoaderRunsAreReadByTheNextAndDetachCleansUp() throws {
        let scene = try BPFScene()
        var first: SysctlHook? = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy())
        let link = try #require(first).linkID
        first = nil
        let writer = try Self.write(in: scene.web, ["net.ipv4.tcp_keepalive_intvl=10"])
        let second = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy())
        #expect(second.attachment == .adopted)
        #expect(second.linkID == link)
        #expect(try scene.attached(scene.hooked).count == 1)
        #expect(try second.drain().map(\.pid) == [writer.writes[0].pid], "the pinned ring buffer kept it")
        try second.detach()
        #expect(try scene.attached(scene.hooked).isEmpty)
        #expect(scene.sandbox.pinnedFiles().isEmpty)
    }

    /// Both hooks under one pin directory; detaching one leaves the other's pins.
    @Test func bothHooksShareOnePinDirectory() throws {
        let scene = try BPFScene()
        let sockets = try KeepaliveHook.attach(at: scene.place, workloads: [:])
        let sysctl = try SysctlHook.attach(at: scene.place, policy: SysctlWritePolicy())
        #expect(try scene.attached(scene.hooked).count == 2)
        #expect(Set(scene.sandbox.pinnedFiles().filter { !$0.contains("/") || $0.split(separator: "/").count == 2 })
                == ["keepalived-tune", "keepalived-tune/sockops", "keepalived-tune/sysctl"])
        try sockets.detach()
        #expect(scene.sandbox.pinnedFiles().allSatisfy { !$0.contains("sockops") }, "the other hook's pins stay")
        #expect(try scene.attached(scene.hooked).count == 1)
        try sysctl.detach()
        #expect(scene.sandbox.pinnedFiles().isEmpty)
        #expect(try scene.attached(scene.hooked).isEmpty)
    }
}

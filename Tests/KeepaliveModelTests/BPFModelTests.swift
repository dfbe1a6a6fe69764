import KeepaliveModel
import Testing

/// The kernel hooks' pure decisions: what goes in the workloads map, how it changes in
/// place, where pins go, and how a failure is explained.
@Suite("BPF hooks (pure)")
struct BPFModelTests {
    static let server = KeepaliveValues(time: 1800, intvl: 30, probes: 3)

    /// `off` sets nothing, `auto` is time + intvl × probes, a span is itself.
    @Test(arguments: [
        (SocketPolicy.UserTimeout.off, UInt32(0)),
        (.auto, 1_890_000),                 // (1800 + 30 × 3) s
        (.milliseconds(35_000), 35_000),
    ])
    func theUserTimeoutIsOffAutoOrASpan(_ timeout: SocketPolicy.UserTimeout, _ milliseconds: UInt32) throws {
        let policy = try #require(SocketPolicy(keepalive: Self.server, userTimeout: timeout))
        #expect(policy.userTimeoutMilliseconds == milliseconds)
        #expect(policy.keepalive == Self.server)
    }

    /// `auto` of the longest values is capped at TCP_USER_TIMEOUT's int range.
    @Test func autoIsCappedAtWhatTheKernelTakes() throws {
        let longest = KeepaliveValues(time: 32767, intvl: 32767, probes: 127)
        #expect(try #require(SocketPolicy(keepalive: longest, userTimeout: .auto)).userTimeoutMilliseconds == UInt32(Int32.max))
    }

    /// A value outside the per-socket limits makes no policy.
    @Test(arguments: [
        KeepaliveValues(time: 0, intvl: 30, probes: 3), KeepaliveValues(time: 32768, intvl: 30, probes: 3),
        KeepaliveValues(time: 1800, intvl: 0, probes: 3), KeepaliveValues(time: 1800, intvl: 30, probes: 128),
    ])
    func valuesBeyondTheSocketLimitsMakeNoPolicy(_ values: KeepaliveValues) {
        #expect(SocketPolicy(keepalive: values, userTimeout: .off) == nil)
    }

    /// A user timeout outside 0...Int32.max makes no policy.
    @Test func aUserTimeoutBeyondAnIntMakesNoPolicy() {
        #expect(SocketPolicy(keepalive: Self.server, userTimeout: .milliseconds(Int(Int32.max) + 1)) == nil)
        #expect(SocketPolicy(keepalive: Self.server, userTimeout: .milliseconds(-1)) == nil)
    }

    /// Only changed and new entries are written, in id order; removed ones are deleted after.
    @Test func theMapChangesInPlaceWritesFirstDeletesLast() throws {
        let web = try #require(SocketPolicy(keepalive: Self.server, userTimeout: .off))
        let cloud = try #require(SocketPolicy(keepalive: KeepaliveValues(time: 300, intvl: 15, probes: 3), userTimeout: .auto))
        let change = WorkloadMapChange(from: [CgroupID(7): web, CgroupID(3): web, CgroupID(9): cloud],
                                       to: [CgroupID(9): cloud, CgroupID(3): cloud, CgroupID(5): web])
        #expect(change.writes == [.init(workload: CgroupID(3), policy: cloud), .init(workload: CgroupID(5), policy: web)],
                "changed and new entries, in id order; the unchanged one (9) is not written")
        #expect(change.deletions == [CgroupID(7)])
        #expect(WorkloadMapChange(from: [CgroupID(9): cloud], to: [CgroupID(9): cloud]).isEmpty)
    }

    /// Counters add field by field.
    @Test func countersAddUp() {
        let sum = SocketCounters(given: 2, leftAlone: 1) + SocketCounters(given: 1, failed: 4)
        #expect(sum == SocketCounters(given: 3, leftAlone: 1, failed: 4))
        #expect(sum.total == 8)
    }

    /// The layout's paths, with a trailing slash dropped.
    @Test func pinsLiveInOneDirectoryOneSubdirectoryPerHook() {
        let layout = PinLayout(directory: "/sys/fs/bpf/keepalived-tune/")
        #expect(layout.directory == PinLayout.defaultDirectory)
        #expect(layout.link(for: .keepalive) == "/sys/fs/bpf/keepalived-tune/sockops/link")
        #expect(layout.map("workloads", for: .keepalive) == "/sys/fs/bpf/keepalived-tune/sockops/workloads")
        #expect(layout.link(for: .sysctl) == "/sys/fs/bpf/keepalived-tune/sysctl/link")
    }

    /// One failed load: its errno, libbpf's log, the thread's CapEff, and the reason expected.
    struct Load: Sendable, CustomTestStringConvertible {
        let errno: Int32, log: String, effective: UInt64, reason: BPFUnavailable
        var testDescription: String { "errno \(errno) → \(reason.missing)" }
    }

    /// CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF.
    static let all: UInt64 = 1 << 12 | 1 << 38 | 1 << 39

    static let loads: [Load] = [
        Load(errno: 1, log: "", effective: 0, reason: .notPermitted(missing: [.bpf, .netAdmin, .perfmon])),
        Load(errno: 1, log: "", effective: 1 << 39 | 1 << 12, reason: .notPermitted(missing: [.perfmon])),
        // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, not CAP_NET_ADMIN.
        Load(errno: 1, log: "", effective: 1 << 21, reason: .notPermitted(missing: [.netAdmin])),
        // All held and still refused: a seccomp filter or an LSM.
        Load(errno: 1, log: "", effective: 1 << 39 | 1 << 12 | 1 << 38, reason: .notPermitted(missing: [])),
        Load(errno: 38, log: "", effective: 0, reason: .kernelTooOld("the bpf() system call is missing")),
        Load(errno: 22, log: "libbpf: prog 'p': BPF program load failed\n3: (85) call bpf_skc_to_tcp_sock#137\nunknown func bpf_skc_to_tcp_sock#137\n",
             effective: all, reason: .kernelTooOld("unknown func bpf_skc_to_tcp_sock#137")),
        // Without CAP_PERFMON, the helper is hidden: privileges, not the kernel.
        Load(errno: 22, log: "program of this type cannot use helper bpf_skc_to_tcp_sock#137\n",
             effective: 1 << 39 | 1 << 12, reason: .notPermitted(missing: [.perfmon])),
        Load(errno: 22, log: "libbpf: failed to find valid kernel BTF\nlibbpf: Error loading vmlinux BTF: -3\n",
             effective: all, reason: .noKernelBTF),
        Load(errno: 7, log: "libbpf: something else\n", effective: all,
             reason: .failed("loading the programs failed (errno 7): libbpf: something else")),
    ]

    /// Each failed load gets the reason an admin can act on.
    @Test(arguments: loads)
    func aFailedLoadIsExplained(_ load: Load) {
        #expect(BPFUnavailable.classifyLoad(errno: load.errno, log: load.log, effective: load.effective) == load.reason)
    }

    /// The reasons' sentences and journal words.
    @Test func theReasonSaysWhatIsMissing() {
        #expect(BPFUnavailable.notPermitted(missing: [.bpf, .perfmon]).description
                == "loading the programs needs CAP_BPF, CAP_PERFMON, which this process lacks")
        #expect(BPFUnavailable.noBPFFilesystem(path: "/sys/fs/bpf/keepalived-tune").missing == "bpffs")
        #expect(BPFUnavailable.noLibbpf("libbpf.so.1: cannot open shared object file").description.contains("install libbpf1"))
    }

    /// A write's one-line form names the key, the values and the writer.
    @Test func aWriteSaysWhoWroteWhat() {
        let write = SysctlWrite(key: .time, pid: 4242, uid: 0, cgroup: CgroupID(9), command: "sysctl",
                                oldValue: "7200", newValue: "600", refused: true)
        #expect(write.description == "net.ipv4.tcp_keepalive_time 7200 → 600 by sysctl[4242] (uid 0); refused")
    }
}

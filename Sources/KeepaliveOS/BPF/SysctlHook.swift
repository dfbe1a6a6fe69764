import CLibbpf
import KeepaliveBPF
import KeepaliveModel

/// Every write to a keepalive sysctl seen at the source (BPF cgroup_sysctl, issue 28): a
/// write by a process under the cgroup to `net.ipv4.tcp_keepalive_{time,intvl,probes}` is
/// reported with its writer, and refused (EPERM) for the keys ``SysctlWritePolicy`` denies.
///
/// In the daemon's loop it is one descriptor: ``readable`` goes into poll(2); when it is
/// ready, ``drain()`` returns the writes seen. Events the ring buffer had no room for are
/// lost (the writes are not): ``counters()``'s `dropped` says how many, and a re-read of the
/// keys must then find what changed. Needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (the
/// writer's command name), and Linux 6.1.
public final class SysctlHook {
    /// The program as the shared loader sees it.
    static func program(ringBytes: UInt32) -> HookProgram {
        HookProgram(hook: .sysctl, image: BPFObjects.sysctl, objectName: "sysctl", program: "keepalive_sysctl_writes",
                    maps: ["policy", "exempt_cgroups", "exempt_tgids", "events", "counters"],
                    attachType: BPF_CGROUP_SYSCTL.rawValue, sizes: ["events": ringBytes])
    }

    /// The ring buffer's default size: 256 KiB, about 2,900 events.
    public static let defaultRingBytes: UInt32 = 256 * 1024

    private let hook: PinnedHook
    private let policyMap: BPFMap, exemptCgroupsMap: BPFMap, exemptProcessesMap: BPFMap, countersMap: BPFMap
    private let events: SysctlEventRing

    /// How the hook came to be in force (attached now, adopted, or updated in place).
    public var attachment: HookAttachment { hook.attachment }
    /// The pinned link's kernel id (the same after an adoption).
    public var linkID: UInt32 { hook.linkID }
    /// The descriptor that is readable when writes wait in the ring buffer (an epoll
    /// descriptor, for the loop's poll(2) with POLLIN).
    public var readable: Int32 { events.readable }

    /// Wraps a hook in force, with its maps and a reader of its ring buffer.
    private init(_ hook: PinnedHook) throws(BPFError) {
        self.hook = hook
        policyMap = try hook.map("policy")
        exemptCgroupsMap = try hook.map("exempt_cgroups")
        exemptProcessesMap = try hook.map("exempt_tgids")
        countersMap = try hook.map("counters")
        events = try SysctlEventRing(try hook.map("events"))
    }

    /// Puts the hook in force at `place` (adopting what is pinned there: ``PinnedHook``),
    /// with `policy` and the exempt writers in its maps before the program can see them.
    ///
    /// - Parameter ringBytes: the ring buffer's size, a power of two of at least a page; a
    ///   pinned ring buffer of another size is replaced.
    public static func attach(at place: BPFPlace, policy: SysctlWritePolicy, exemptCgroups: Set<CgroupID> = [],
                              exemptProcesses: Set<Int32> = [], ringBytes: UInt32 = defaultRingBytes) throws(BPFError) -> SysctlHook {
        let pinned = try PinnedHook.attach(program(ringBytes: ringBytes), at: place) { object throws(BPFError) in
            try write(policy, to: try object.map("policy"))
            try replace(try object.map("exempt_cgroups"), with: Set(exemptCgroups.map(\.rawValue)))
            try replace(try object.map("exempt_tgids"), with: Set(exemptProcesses.map { UInt32(bitPattern: $0) }))
        }
        return try SysctlHook(pinned)
    }

    /// Changes which keys' writes are refused, in place.
    public func setPolicy(_ policy: SysctlWritePolicy) throws(BPFError) { try Self.write(policy, to: policyMap) }

    /// Changes the exempt writers, in place: writers in these cgroups, and these processes,
    /// pass unseen (the daemon's own unit; `keepalived-tune apply` while it runs).
    public func setExempt(cgroups: Set<CgroupID>, processes: Set<Int32>) throws(BPFError) {
        try Self.replace(exemptCgroupsMap, with: Set(cgroups.map(\.rawValue)))
        try Self.replace(exemptProcessesMap, with: Set(processes.map { UInt32(bitPattern: $0) }))
    }

    /// The writes waiting in the ring buffer, oldest first (none if nothing waits). Never blocks.
    public func drain() throws(BPFError) -> [SysctlWrite] { try events.drain() }

    /// The program's counts, summed over CPUs.
    public func counters() -> SysctlCounters {
        /// One counter, summed over CPUs.
        func total(_ index: kt_sysctl_counter) -> UInt64 {
            countersMap.lookupPerCPU(UInt32(index.rawValue), as: UInt64.self).reduce(0, &+)
        }
        return SysctlCounters(seen: total(KT_SYSCTL_SEEN), denied: total(KT_SYSCTL_DENIED), dropped: total(KT_SYSCTL_DROPPED))
    }

    /// Detaches the program and removes its pins (``PinnedHook/detach()``).
    public func detach() throws(BPFError) {
        events.close()
        try hook.detach()
    }

    /// Writes each key's flags.
    private static func write(_ policy: SysctlWritePolicy, to map: BPFMap) throws(BPFError) {
        for (index, key) in Tunable.allCases.enumerated() {
            try map.update(UInt32(index), policy.denied.contains(key) ? UInt32(KT_SYSCTL_DENY) : 0)
        }
    }

    /// Makes a set-like hash map (key → 1) hold exactly `keys`: adds first, then removes.
    private static func replace<Key: BitwiseCopyable & Hashable>(_ map: BPFMap, with keys: Set<Key>) throws(BPFError) {
        let current = Set(map.keys(Key.self))
        for key in keys.subtracting(current) { try map.update(key, UInt8(1)) }
        for key in current.subtracting(keys) { try map.delete(key) }
    }
}

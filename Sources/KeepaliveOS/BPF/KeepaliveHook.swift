import CLibbpf
import KeepaliveBPF
import KeepaliveModel

/// Keepalive at connection birth (BPF sock_ops, issue 27): every new TCP connection whose
/// socket's cgroup is, or is under, a workload in the `workloads` map gets that workload's
/// ``SocketPolicy`` in the kernel as it is established; the application's own settings stand.
///
/// The daemon's loop never wakes for it (no deadline, no descriptor): the kernel does the
/// work and counts it; the daemon updates the map on reload and reads ``counters()`` when it
/// publishes metrics. Needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, and kernel BTF.
public final class KeepaliveHook {
    /// The program as the shared loader sees it.
    static let program = HookProgram(hook: .keepalive, image: BPFObjects.keepalive, objectName: "keepalive",
                                     program: "keepalive_at_birth", maps: ["workloads", "counters"],
                                     attachType: BPF_CGROUP_SOCK_OPS.rawValue)

    private let hook: PinnedHook
    private let workloadsMap: BPFMap
    private let countersMap: BPFMap

    /// How the hook came to be in force (attached now, adopted, or updated in place).
    public var attachment: HookAttachment { hook.attachment }
    /// The pinned link's kernel id (the same after an adoption).
    public var linkID: UInt32 { hook.linkID }
    /// Maps a version with another layout had pinned, replaced (their counters restart).
    public var replacedMaps: [String] { hook.replacedMaps }

    /// Wraps a hook in force, with its two maps.
    private init(_ hook: PinnedHook) throws(BPFError) {
        self.hook = hook
        workloadsMap = try hook.map("workloads")
        countersMap = try hook.map("counters")
    }

    /// Puts the hook in force at `place` with `workloads` in its map (adopting what is
    /// pinned there: see ``PinnedHook``). The map holds exactly `workloads` before the
    /// program can run with a map it did not have before. An adopted map is changed in place
    /// (``setWorkloads(_:)``); the counters of workloads it no longer holds are dropped.
    public static func attach(at place: BPFPlace, workloads: [CgroupID: SocketPolicy]) throws(BPFError) -> KeepaliveHook {
        let pinned = try PinnedHook.attach(program, at: place) { object throws(BPFError) in
            _ = try apply(WorkloadMapChange(from: read(try object.map("workloads")), to: workloads),
                          to: try object.map("workloads"), counters: try object.map("counters"))
        }
        return try KeepaliveHook(pinned)
    }

    /// The workloads the map holds now.
    public func workloads() -> [CgroupID: SocketPolicy] { Self.read(workloadsMap) }

    /// Changes the map, in place, to hold exactly `desired` (``WorkloadMapChange``: no
    /// workload selected before and after is ever uncovered).
    ///
    /// - Returns: the last counts of the workloads removed, whose counters are removed too (a
    ///   cgroup id is never reused, so they are final).
    @discardableResult
    public func setWorkloads(_ desired: [CgroupID: SocketPolicy]) throws(BPFError) -> [CgroupID: SocketCounters] {
        try Self.apply(WorkloadMapChange(from: workloads(), to: desired), to: workloadsMap, counters: countersMap)
    }

    /// What the program did, per workload, summed over CPUs.
    public func counters() -> [CgroupID: SocketCounters] {
        var result: [CgroupID: SocketCounters] = [:]
        for key in countersMap.keys(UInt64.self) {
            result[CgroupID(key)] = Self.sum(countersMap.lookupPerCPU(key, as: kt_keepalive_counters.self))
        }
        return result
    }

    /// Detaches the program and removes its pins (``PinnedHook/detach()``).
    public func detach() throws(BPFError) { try hook.detach() }

    /// The entries of a `workloads` map.
    private static func read(_ map: BPFMap) -> [CgroupID: SocketPolicy] {
        var result: [CgroupID: SocketPolicy] = [:]
        for key in map.keys(UInt64.self) {
            guard let value = map.lookup(key, as: kt_keepalive_policy.self),
                  let policy = SocketPolicy(value) else { continue }
            result[CgroupID(key)] = policy
        }
        return result
    }

    /// Writes, then deletes; returns the last counts of the deleted workloads.
    private static func apply(_ change: WorkloadMapChange, to map: BPFMap, counters: BPFMap) throws(BPFError) -> [CgroupID: SocketCounters] {
        for write in change.writes { try map.update(write.workload.rawValue, kt_keepalive_policy(write.policy)) }
        var retired: [CgroupID: SocketCounters] = [:]
        for workload in change.deletions {
            try map.delete(workload.rawValue)
            retired[workload] = sum(counters.lookupPerCPU(workload.rawValue, as: kt_keepalive_counters.self))
            try counters.delete(workload.rawValue)
        }
        return retired
    }

    /// The sum of per-CPU counters.
    private static func sum(_ values: [kt_keepalive_counters]) -> SocketCounters {
        values.reduce(SocketCounters()) { $0 + SocketCounters(given: $1.given, leftAlone: $1.left_alone, failed: $1.failed) }
    }
}

/// The `workloads` map's value, from and to ``SocketPolicy``.
extension kt_keepalive_policy {
    /// The map value for a policy.
    init(_ policy: SocketPolicy) {
        self.init(time: UInt32(policy.keepalive.time), intvl: UInt32(policy.keepalive.intvl),
                  probes: UInt32(policy.keepalive.probes), user_timeout_ms: policy.userTimeoutMilliseconds)
    }
}

/// A ``SocketPolicy`` read back from the `workloads` map.
extension SocketPolicy {
    /// The policy a map value holds; `nil` for a value no policy makes.
    init?(_ value: kt_keepalive_policy) {
        self.init(keepalive: KeepaliveValues(time: Int(value.time), intvl: Int(value.intvl), probes: Int(value.probes)),
                  userTimeout: value.user_timeout_ms == 0 ? .off : .milliseconds(Int(value.user_timeout_ms)))
    }
}

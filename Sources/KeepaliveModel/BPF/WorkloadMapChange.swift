/// How the `workloads` map goes from what it holds to what the rules now select, in place,
/// with no moment at which a workload selected before and after is uncovered.
///
/// Entries that stay are overwritten (a hash-map update is atomic for its readers: a
/// connection sees the old policy or the new, never none); new entries are added; then,
/// last, entries no longer selected are deleted.
public struct WorkloadMapChange: Sendable, Hashable {
    /// One entry to write.
    public struct Write: Sendable, Hashable {
        public let workload: CgroupID
        public let policy: SocketPolicy

        /// An entry: the workload's cgroup id and its policy.
        public init(workload: CgroupID, policy: SocketPolicy) {
            self.workload = workload
            self.policy = policy
        }
    }

    /// Entries to write, new or changed, in id order.
    public let writes: [Write]
    /// Entries to delete, in id order, after the writes.
    public let deletions: [CgroupID]

    /// The change from `current` to `desired`; entries already right are not written again.
    public init(from current: [CgroupID: SocketPolicy], to desired: [CgroupID: SocketPolicy]) {
        writes = desired.filter { current[$0.key] != $0.value }.sorted { $0.key < $1.key }
            .map { Write(workload: $0.key, policy: $0.value) }
        deletions = current.keys.filter { desired[$0] == nil }.sorted()
    }

    /// Whether nothing needs to change.
    public var isEmpty: Bool { writes.isEmpty && deletions.isEmpty }
}

import KeepaliveModel

/// The daemon's RLIMIT_NOFILE: each managed namespace holds three descriptors, so the
/// limit bounds the fleet (``FleetCapacity``).
public enum DescriptorLimit {
    /// Raises the soft limit to the hard one, as systemd recommends for a daemon that needs
    /// many descriptors and never uses select(2) (systemd.exec(5), `LimitNOFILE=`): the soft
    /// limit stays 1024 for the programs that do. Returns the limit in force afterwards.
    @discardableResult
    public static func raiseSoftToHard(syscalls: Syscalls) -> Int? {
        guard case .success(let limit) = syscalls.descriptorLimit() else { return nil }
        guard limit.soft < limit.hard else { return limit.soft }
        if case .failure = syscalls.setDescriptorLimit(limit.hard, limit.hard) { return limit.soft }
        return limit.hard
    }

    /// The soft limit now; `nil` if it cannot be read.
    public static func current(syscalls: Syscalls) -> Int? {
        guard case .success(let limit) = syscalls.descriptorLimit() else { return nil }
        return limit.soft
    }
}

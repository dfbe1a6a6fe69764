/// Everything known about one network namespace: the names a selector can match, and the
/// keepalive values its container runtime set explicitly (left alone under
/// `explicit-values = keep`).
///
/// Gathered by the OS layer from `/run/netns`, the cgroup paths of member processes and
/// the runtimes' files (``ContainerRecord``); pure from here on.
public struct NamespaceIdentity: Sendable, Hashable {
    /// The namespace's inode (`/proc/PID/ns/net`); reused after a namespace dies, so it is
    /// a key only while the namespace is known to live.
    public let inode: UInt64
    /// Names under `/run/netns` (and the docker sandbox's under `/run/docker/netns`).
    public var netnsNames: [String] = []
    /// The containers whose namespace this is (a pod's containers all share one).
    public var containers: [ContainerRecord] = []
    /// A Kubernetes pod, `NAMESPACE/POD`.
    public var pod: String?
    /// A systemd-nspawn machine.
    public var machine: String?
    /// Units of the system manager with a process inside (``CgroupUnit/placement(ofPath:delegated:)``).
    public var units: [String] = []
    /// Users' units with a process inside, as `UID/NAME`.
    public var userUnits: [String] = []
    /// cgroup paths of processes inside.
    public var cgroups: [String] = []
    /// A process inside, if any was seen (for `/proc/PID/ns/net`).
    public var memberPID: Int32?
    /// How much of its member processes' cgroups is known: all that ``units``,
    /// ``userUnits``, ``cgroups`` and ``machine`` say comes from there.
    public var coverage: MemberCoverage = .unread
    /// The daemon's own namespace.
    public var isOwn = false

    public init(inode: UInt64) { self.inode = inode }

    /// The values set explicitly for the namespace: the `linux.sysctl` of its containers'
    /// OCI configs (`--sysctl`, a pod's `securityContext.sysctls`, `default_sysctls`).
    public var explicit: [Tunable: Int] {
        containers.reduce(into: [:]) { merged, container in merged.merge(container.sysctls) { first, _ in first } }
    }

    /// The names of `kind` this namespace is known by.
    public func names(of kind: NamespaceSelector.Kind) -> [String] {
        switch kind {
        case .netns: netnsNames
        case .podman: containers.filter { $0.runtime == .podman }.map(\.name)
        case .docker: containers.filter { $0.runtime == .docker }.map(\.name)
        case .nspawn: machine.map { [$0] } ?? []
        case .k8s: pod.map { [$0] } ?? []
        case .unit: units
        case .userUnit: userUnits
        case .cgroup: cgroups
        }
    }

    /// What to call it: the most specific identity known, as a selector kind and a name
    /// (`k8s shop/cart-7d9`, `podman frontend-1`, `netns vpn-a`), or `unknown`.
    public var label: (kind: String, name: String) {
        if let pod { return ("k8s", pod) }
        for runtime in [ContainerRecord.Runtime.podman, .docker] {
            if let container = containers.first(where: { $0.runtime == runtime }) { return (runtime.rawValue, container.name) }
        }
        if let machine { return ("nspawn", machine) }
        if let name = netnsNames.first { return ("netns", name) }
        if let unit = units.first(where: { UnitIdentity.userManagerUID($0) == nil }) { return ("unit", unit) }
        if let unit = userUnits.first { return ("user-unit", unit) }
        if let unit = units.first { return ("unit", unit) }
        return ("unknown", cgroups.first ?? "")
    }

    /// How messages name it: `4026532179 (podman frontend-1)`.
    public var summary: String {
        let label = label
        return "\(inode) (\(label.kind) \(label.name))"
    }

    /// The `netns` label of its series in the metrics: its name (``label``), or its inode
    /// where nothing names it.
    public var metricsLabel: String {
        let name = label.name
        return name.isEmpty ? String(inode) : name
    }

    /// Journal fields naming it: `NETNS` (the inode), `NETNS_NAME`, and `CONTAINER`, `POD`,
    /// `UNIT` (the system manager's) or `USER_UNIT` (`UID/NAME`) where known.
    public var journalFields: [String: String] {
        var fields = ["NETNS": String(inode)]
        fields["NETNS_NAME"] = netnsNames.first
        fields["CONTAINER"] = containers.first?.name
        fields["POD"] = pod
        fields["UNIT"] = units.first
        fields["USER_UNIT"] = userUnits.first
        return fields
    }

    /// Adds what a member's cgroup path says: the path itself, its system unit and user's
    /// unit, and an nspawn machine. `placement` is what the OS layer read of it, ownership
    /// included; without one, the path's structure alone.
    public mutating func add(cgroup path: String, placement: CgroupPlacement? = nil) {
        guard !cgroups.contains(path) else { return }
        cgroups.append(path)
        let placement = placement ?? CgroupUnit.placement(ofPath: path)
        if let unit = placement.unit {
            if !units.contains(unit.system) { units.append(unit.system) }
            if let user = unit.user, !userUnits.contains(user.qualified) { userUnits.append(user.qualified) }
        }
        if let name = placement.machine { machine = name }
    }
}

/// How much of a namespace's member processes a scan read.
public enum MemberCoverage: Sendable, Hashable {
    /// No full scan has looked at its processes yet (found by its pin since the last one).
    case unread
    /// The cgroup of every member process was read.
    case complete
    /// Some could not be read; why.
    case partial(String)

    /// Why the members are not all known, as a clause; `nil` when they are.
    public var gap: String? {
        switch self {
        case .complete: nil
        case .unread: "its member processes have not been read yet (it appeared since the last full scan)"
        case .partial(let why): "its member processes could not all be read (\(why))"
        }
    }
}

/// A container as its runtime records it: enough to name it and to know its explicit
/// keepalive values.
public struct ContainerRecord: Sendable, Hashable {
    /// Who runs it; a selector kind for the first two.
    public enum Runtime: String, Sendable, Hashable {
        case podman, docker
        /// containerd's CRI (Kubernetes).
        case containerd
        /// CRI-O (Kubernetes).
        case crio = "cri-o"
    }

    public let runtime: Runtime
    /// The full container id (64 hex digits).
    public let id: String
    /// The container's name (a pod sandbox's own name for Kubernetes runtimes).
    public var name: String
    /// `NAMESPACE/POD` for a Kubernetes container.
    public var pod: String?
    /// The keepalive keys its OCI config's `linux.sysctl` sets.
    public var sysctls: [Tunable: Int]

    public init(runtime: Runtime, id: String, name: String, pod: String? = nil, sysctls: [Tunable: Int] = [:]) {
        self.runtime = runtime
        self.id = id
        self.name = name
        self.pod = pod
        self.sysctls = sysctls
    }
}

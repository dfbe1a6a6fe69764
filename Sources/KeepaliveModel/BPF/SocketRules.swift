/// `[sockets]` and `[sockets.rules]` as one pure policy: which workloads' new TCP connections
/// the kernel hook gives keepalive, and with which profile (issue 27).
///
/// A workload is a cgroup: a system unit, a user's unit, a container's scope, any cgroup
/// path. The selectors are the `[namespaces]` ones that name cgroups, with the same
/// guarantees against an unprivileged user (SECURITY.md): `unit:` matches only the system
/// manager's units, found where systemd puts them (``CgroupPlacement``), never a name a user
/// made in its delegated subtree; a user's units are `user-unit:UID/NAME`.
public struct SocketRules: Sendable, Hashable {
    /// `[sockets] keepalive =`: `none` (the default) gives nothing; `matching`, the
    /// connections of workloads a rule selects; `all`, every new TCP connection under
    /// `[bpf] cgroup` (rules first, then `[sockets] profile`). The words of `[namespaces] manage`.
    public typealias Reach = NamespaceRules.Reach

    /// One `PROFILE = SELECTOR...` line of `[sockets.rules]`, as of `[namespaces.rules]`.
    public typealias Rule = NamespaceRules.Rule

    /// The selector kinds a socket rule may use: those that name a cgroup.
    public static let kinds: [NamespaceSelector.Kind] = [.unit, .userUnit, .podman, .docker, .k8s, .nspawn, .cgroup]

    public var reach = Reach.none
    /// `[sockets] profile =`: for `all`, the connections no rule matches (default: the
    /// `[daemon]` profile).
    public var fallback: ProfileName?
    /// The rules, in file order: the first that matches wins.
    public var rules: [Rule] = []

    public init() {}

    /// The profiles the rules and the fallback name, with where they are named.
    public var namedProfiles: [(ProfileName, SourceLocation)] {
        reach == .none ? [] : rules.map { ($0.profile, $0.location) }
    }

    /// The profile of the first rule that selects `workload`; `nil` if none does.
    public func profile(for workload: Workload) -> ProfileName? {
        rules.first { rule in rule.selectors.contains { workload.matches($0) } }?.profile
    }

    /// One workload the map must hold, and the profile it gets.
    public struct Assignment: Sendable, Hashable {
        public let id: CgroupID
        public let path: String
        public let profile: ProfileName
    }

    /// What the workload map must hold: each selected cgroup with its profile. A cgroup
    /// below one already selected with the same profile is left out (the program walks up to
    /// the nearest workload, so it is covered); one that a rule gives another profile is
    /// kept, and the first rule that selects a cgroup decides its profile. With `all`, the
    /// attach cgroup itself holds the fallback, so that every other connection under it is
    /// covered.
    ///
    /// - Parameters:
    ///   - workloads: every cgroup under the attach cgroup, the attach cgroup included.
    ///   - root: the attach cgroup.
    ///   - daemonProfile: the `[daemon]` profile, the fallback's default.
    public func assignments(_ workloads: [Workload], root: (id: CgroupID, path: String),
                            daemonProfile: ProfileName) -> [Assignment] {
        guard reach != .none else { return [] }
        var chosen: [Assignment] = []
        if reach == .all { chosen.append(Assignment(id: root.id, path: root.path, profile: fallback ?? daemonProfile)) }
        for workload in workloads.sorted(by: { $0.path < $1.path }) {
            guard let profile = profile(for: workload) else { continue }
            let nearest = chosen.last { $0.path == "/" || workload.path.hasPrefix($0.path + "/") || $0.path == workload.path }
            if nearest?.profile == profile { continue }
            chosen.append(Assignment(id: workload.id, path: workload.path, profile: profile))
        }
        return chosen
    }

    /// One cgroup as the rules see it.
    public struct Workload: Sendable, Hashable {
        /// Its id (the cgroup2 directory's inode).
        public let id: CgroupID
        /// Its path from the cgroup2 root, `/system.slice/nginx.service`.
        public let path: String
        /// What its path says, ownership checked (``CgroupOwnership`` in the OS layer).
        public let placement: CgroupPlacement
        /// The containers its container id names (the runtimes' records).
        public let containers: [ContainerRecord]

        public init(id: CgroupID, path: String, placement: CgroupPlacement, containers: [ContainerRecord] = []) {
            self.id = id
            self.path = path
            self.placement = placement
            self.containers = containers
        }

        /// Whether `selector` names this cgroup.
        public func matches(_ selector: NamespaceSelector) -> Bool {
            names(of: selector.kind).contains { selector.glob.matches($0) }
        }

        /// The names of `kind` it is known by (the same as ``NamespaceIdentity/names(of:)``
        /// for one cgroup).
        func names(of kind: NamespaceSelector.Kind) -> [String] {
            switch kind {
            case .netns: []
            case .podman: containers.filter { $0.runtime == .podman }.map(\.name)
            case .docker: containers.filter { $0.runtime == .docker }.map(\.name)
            case .k8s: containers.compactMap(\.pod)
            case .nspawn: placement.machine.map { [$0] } ?? []
            case .unit: placement.unit.map { [$0.system] } ?? []
            case .userUnit: placement.unit?.user.map { [$0.qualified] } ?? []
            case .cgroup: [path]
            }
        }
    }
}

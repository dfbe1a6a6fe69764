/// Which systemd unit (or container) a process belongs to, read from its `/proc/PID/cgroup`:
/// the cgroup v2 line (`0::/system.slice/nginx.service`), or on a hybrid layout the
/// `name=systemd` line.
///
/// A process can put itself in any cgroup it can write, and a user can write only below a
/// delegation point: its manager `user@UID.service`, a `Delegate=yes` unit's subtree, or a
/// cgroup root gave away (owned by someone else, or writable by group or others). So a name
/// counts only where root put it (``placement(ofPath:delegated:)``): the system manager's unit
/// is the *first* unit below the root slices, never a name further down.
public enum CgroupUnit {
    /// The cgroup path of the process, from the text of `/proc/PID/cgroup`. The ` (deleted)`
    /// the kernel adds for a cgroup that is being removed is left out.
    public static func path(_ procCgroup: String) -> String? {
        var named: String?
        for line in procCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty { return withoutDeleted(fields[2]) }
            if fields[1] == "name=systemd" { named = withoutDeleted(fields[2]) }
        }
        return named
    }

    private static func withoutDeleted(_ path: Substring) -> String {
        String(path.hasSuffix(" (deleted)") ? path.dropLast(" (deleted)".count) : path)
    }

    /// The kinds of units that have cgroups of their own.
    public static let unitSuffixes = [".service", ".scope", ".socket", ".mount", ".swap"]

    /// Whether a path component names a unit (`nginx.service`, `session-2.scope`).
    public static func isUnit(_ component: some StringProtocol) -> Bool {
        unitSuffixes.contains { component.hasSuffix($0) }
    }

    /// What `path` says of the process in it, read where systemd puts things:
    /// - the system unit is the first unit below the root slices (`/system.slice/x.service`,
    ///   `/user.slice/user-1000.slice/session-2.scope`); anything below it (a `Delegate=yes`
    ///   service's own cgroups) is that unit's;
    /// - below a user's manager (`.../user@UID.service/app.slice/y.service`), the user's unit
    ///   is the first unit below its slices;
    /// - a container id counts at the outermost component that names one (a runtime's scope,
    ///   `/docker/ID`, `/kubepods/.../ID`), never inside a unit other than its own scope.
    ///
    /// `delegated` says of a cgroup (`/`, `/system.slice`) whether someone other than root
    /// can add to it (`nil`: that could not be read). Nothing below such a cgroup yields a
    /// unit or a container; one that could not be read makes the whole path ``CgroupPlacement/unverified``.
    public static func placement(ofPath path: String, delegated: (String) -> Bool? = { _ in false }) -> CgroupPlacement {
        let components = path.split(separator: "/")
        var placement = CgroupPlacement()
        var parent = "/"
        var inSlices = true
        for (index, component) in components.enumerated() {
            if component == ".." {
                placement.unverified = "\(path) lies outside this process's cgroup namespace"
                return placement
            }
            switch delegated(parent) {
            case nil:
                placement.unverified = "the owner of cgroup \(parent) could not be read"
                return placement
            case true?:
                return placement   // below a delegation point: the name is not root's
            case false?:
                break
            }
            if let container = containerID(component, parent: index > 0 ? components[index - 1] : nil) {
                placement.container = container
            }
            if inSlices && component.hasSuffix(".slice") {
                parent = parent == "/" ? "/\(component)" : "\(parent)/\(component)"
                continue
            }
            if inSlices && isUnit(component) {
                placement.unit = UnitIdentity(system: String(component), user: userUnit(of: component, below: components[(index + 1)...]))
            }
            if placement.container != nil || placement.unit != nil { return placement }
            inSlices = false
            parent = parent == "/" ? "/\(component)" : "\(parent)/\(component)"
        }
        return placement
    }

    /// The user's unit below its manager `user@UID.service`: the first unit below the slices
    /// that follow it.
    private static func userUnit(of manager: Substring, below rest: ArraySlice<Substring>) -> UnitIdentity.UserUnit? {
        guard let uid = UnitIdentity.userManagerUID(manager) else { return nil }
        for component in rest {
            if component.hasSuffix(".slice") { continue }
            return isUnit(component) ? UnitIdentity.UserUnit(uid: uid, name: String(component)) : nil
        }
        return nil
    }

    /// The systemd-nspawn machine a system unit is: `machine-NAME.scope` (`systemd-nspawn`
    /// run by hand) or `systemd-nspawn@NAME.service` (`machinectl start`), with systemd's
    /// `\x2d` escapes undone (`machine-web\x2d1.scope` → `web-1`).
    public static func machine(ofUnit unit: String) -> String? {
        for (prefix, suffix) in [("machine-", ".scope"), ("systemd-nspawn@", ".service")]
        where unit.hasPrefix(prefix) && unit.hasSuffix(suffix) && unit.count > prefix.count + suffix.count {
            return unit.dropFirst(prefix.count).dropLast(suffix.count).decodingEscapes(introducer: "x", digits: 2, radix: 16)
        }
        return nil
    }

    /// The container a cgroup path belongs to, by its structure alone
    /// (``placement(ofPath:delegated:)`` with no delegation known).
    public static func container(ofPath path: String) -> ContainerID? { placement(ofPath: path).container }

    /// The container one path component names, given the component above it: podman
    /// `libpod-ID` (`.scope`, or under `/libpod_parent`), docker `docker-ID.scope` or
    /// `/docker/ID`, containerd `cri-containerd-ID.scope`, CRI-O `crio-ID.scope`, and a bare id
    /// under `kubepods`. conmon's own `libpod-conmon-ID` is not the container.
    static func containerID(_ component: Substring, parent: Substring?) -> ContainerID? {
        var name = component
        if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
        let prefixes: [(String, ContainerRecord.Runtime?)] = [("libpod-", .podman), ("docker-", .docker),
            ("cri-containerd-", .containerd), ("crio-", .crio)]
        for (prefix, runtime) in prefixes where name.hasPrefix(prefix) {
            let id = name.dropFirst(prefix.count)
            if isContainerID(id) { return ContainerID(runtime: runtime, id: String(id)) }
        }
        if isContainerID(name), let parent {
            if parent == "docker" { return ContainerID(runtime: .docker, id: String(name)) }
            if parent.hasPrefix("kubepods") || parent.hasPrefix("pod") { return ContainerID(runtime: nil, id: String(name)) }
        }
        return nil
    }

    /// 64 lowercase hex digits, as every runtime here names a container.
    static func isContainerID(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// What one cgroup path says of the process in it (``CgroupUnit/placement(ofPath:delegated:)``).
public struct CgroupPlacement: Sendable, Hashable {
    /// The unit root's manager put it in, if any.
    public var unit: UnitIdentity?
    /// The container root's runtime put it in, if any.
    public var container: ContainerID?
    /// Why nothing could be told of the path (an owner that could not be read, a path
    /// outside the reader's cgroup namespace); `nil` when it was read whole.
    public var unverified: String?

    public init(unit: UnitIdentity? = nil, container: ContainerID? = nil, unverified: String? = nil) {
        self.unit = unit
        self.container = container
        self.unverified = unverified
    }

    /// The systemd-nspawn machine its system unit is.
    public var machine: String? { unit.flatMap { CgroupUnit.machine(ofUnit: $0.system) } }
}

/// A container as a cgroup path names it: the runtime its naming shows (`nil` for a bare id
/// under `kubepods`) and the 64-hex id.
public struct ContainerID: Sendable, Hashable {
    public let runtime: ContainerRecord.Runtime?
    public let id: String

    public init(runtime: ContainerRecord.Runtime?, id: String) {
        self.runtime = runtime
        self.id = id
    }
}

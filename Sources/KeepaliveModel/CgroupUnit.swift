/// Which systemd unit (or container scope) a process belongs to, read from its
/// `/proc/PID/cgroup`: the cgroup v2 line (`0::/system.slice/nginx.service`), or on a hybrid
/// layout the `name=systemd` line.
public enum CgroupUnit {
    /// The cgroup path of the process, from the text of `/proc/PID/cgroup`.
    public static func path(_ procCgroup: String) -> String? {
        var named: String?
        for line in procCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty { return String(fields[2]) }
            if fields[1] == "name=systemd" { named = String(fields[2]) }
        }
        return named
    }

    /// The innermost unit in a cgroup path: `/system.slice/nginx.service` → `nginx.service`,
    /// `/user.slice/user-1000.slice/session-2.scope` → `session-2.scope`; a process in a
    /// sub-cgroup of a service (`.../app.service/worker`) belongs to that service. `nil` for
    /// the root or a path without a unit (a container runtime's own hierarchy).
    public static func unit(ofPath path: String) -> String? {
        let suffixes = [".service", ".scope", ".socket", ".mount", ".swap"]
        return path.split(separator: "/").last { component in suffixes.contains { component.hasSuffix($0) } }.map(String.init)
    }

    /// The systemd-nspawn machine a cgroup path belongs to: `machine-NAME.scope`, with
    /// systemd's `\x2d` escapes undone (`machine-web\x2d1.scope` → `web-1`).
    public static func machine(ofPath path: String) -> String? {
        guard let scope = path.split(separator: "/").last(where: { $0.hasPrefix("machine-") && $0.hasSuffix(".scope") }) else { return nil }
        let escaped = scope.dropFirst("machine-".count).dropLast(".scope".count)
        return escaped.decodingEscapes(introducer: "x", digits: 2, radix: 16)
    }

    /// The container a cgroup path belongs to: the runtime its naming shows and the 64-hex
    /// id. podman `libpod-ID` (`.scope`, or under `/libpod_parent`), docker `docker-ID.scope`
    /// or `/docker/ID`, containerd `cri-containerd-ID.scope`, CRI-O `crio-ID.scope`, and a
    /// bare id under `kubepods`. conmon's own `libpod-conmon-ID` is not the container.
    public static func container(ofPath path: String) -> (runtime: ContainerRecord.Runtime?, id: String)? {
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated().reversed() {
            var name = Substring(component)
            if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
            let prefixes: [(String, ContainerRecord.Runtime?)] = [("libpod-", .podman), ("docker-", .docker),
                ("cri-containerd-", .containerd), ("crio-", .crio)]
            for (prefix, runtime) in prefixes where name.hasPrefix(prefix) {
                let id = name.dropFirst(prefix.count)
                if isContainerID(id) { return (runtime, String(id)) }
            }
            if isContainerID(name), index > 0 {
                let parent = components[index - 1]
                if parent == "docker" { return (.docker, String(name)) }
                if parent.hasPrefix("kubepods") || parent.hasPrefix("pod") { return (nil, String(name)) }
            }
        }
        return nil
    }

    /// 64 lowercase hex digits, as every runtime here names a container.
    static func isContainerID(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

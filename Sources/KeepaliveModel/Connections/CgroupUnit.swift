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
}

#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

extension Daemon {
    /// With `[namespaces] manage` set, says at start what the daemon lacks to do it: the
    /// capabilities (CAP_SYS_ADMIN for setns, CAP_SYS_PTRACE for other users'
    /// `/proc/PID/ns/net`) and whether setns is allowed at all (`RestrictNamespaces=`). The
    /// daemon's own namespace stays in force either way.
    func reportNamespaceLimits(_ policy: Policy) {
        let effective = Capabilities.effective(syscalls: syscalls)
        var missing: [String] = []
        if let effective, !effective.contains(.sysAdmin) {
            missing.append("CAP_SYS_ADMIN (setns(2) into another network namespace)")
        }
        // With CAP_SYS_ADMIN, a refused setns (into this very namespace) is the unit's
        // seccomp filter: RestrictNamespaces=.
        if effective?.contains(.sysAdmin) != false, case .failure(let error) = NetworkNamespace.run(in: "/proc/self/ns/net", syscalls: syscalls, { () }) {
            missing.append("setns(2) itself, refused with \(error.errno) (RestrictNamespaces= must allow net)")
        }
        if let effective, !effective.contains(.sysPtrace) {
            missing.append("CAP_SYS_PTRACE (namespaces of other users' processes that no bind mount pins)")
        }
        guard !missing.isEmpty else { return }
        let reach = policy.config.namespaceRules.reach.rawValue
        log.record(.namespacesLimited, "[namespaces] manage = \(reach) needs what this daemon lacks: \(missing.joined(separator: "; ")). The daemon's own namespace stays in force; add the shipped drop-in namespaces.conf to the unit (see README, \"Containers and namespaces\") and restart",
                   fields: ["MISSING": missing.joined(separator: "; ")])
    }
}

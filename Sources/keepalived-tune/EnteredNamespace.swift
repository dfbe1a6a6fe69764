import KeepaliveModel
import KeepaliveOS

/// `--netns NAME|PATH|PID` of `status`, `verify` and `apply`: the network namespace a
/// command works on instead of its own, and the policy it is held to there: the profile the
/// config's `[namespaces]` rules give it (as the daemon would), else the `[daemon]` profile,
/// with any key its container set explicitly left alone under `explicit-values = keep`.
struct EnteredNamespace {
    static let option = OptionSpec(name: "netns", valueName: "name|path|pid",
        help: "Work on another network namespace: a name under /run/netns, an nsfs path, or a PID (its /proc/PID/ns/net).")

    /// Into the namespace (descriptors opened there).
    let tree: SysctlTree
    let inode: UInt64
    let identity: NamespaceIdentity
    /// The config's `[namespaces]` rules, which decide what it holds.
    let rules: NamespaceRules
    /// What the rules say of it.
    var decision: NamespaceRules.Decision { rules.decide(identity, daemonProfile: daemonProfile) }
    /// Keys its container set, left alone.
    var kept: [Tunable: Int] { rules.keptKeys(identity) }
    private let daemonProfile: ProfileName

    /// The namespace `value` names, entered; prints why not and exits 3 if it cannot be.
    static func enter(_ value: String, setup: Setup, rules: NamespaceRules, daemonProfile: ProfileName) throws -> EnteredNamespace {
        let path = NetworkNamespace.path(for: value)
        let inode: UInt64
        switch setup.syscalls.pathStatus(path) {
        case .success(let status): inode = status.inode
        case .failure(let error):
            Output.error("keepalived-tune: --netns \(value): cannot open \(path): \(error)")
            throw ExitStatus.systemFailure
        }
        let descriptors: [Int32]
        switch NamespaceEntry.openSysctls(at: path, inode: inode, syscalls: setup.syscalls) {
        case .success(let opened): descriptors = opened
        case .failure(let failure):
            Output.error("keepalived-tune: --netns \(value): \(failure)")
            throw ExitStatus.systemFailure
        }
        let identity = NamespaceDiscovery(syscalls: setup.syscalls).scan(processes: true).identities[inode] ?? NamespaceIdentity(inode: inode)
        return EnteredNamespace(tree: SysctlTree(pinned: descriptors, syscalls: setup.syscalls, lock: setup.applyLock()),
                               inode: inode, identity: identity, rules: rules, daemonProfile: daemonProfile)
    }

    /// The policy to hold it to: its rule's profile, or else `policy` (the `[daemon]` one).
    func policy(_ policy: Policy) -> Policy {
        rules.expectation(for: identity, policy: policy).policy ?? policy
    }

    /// `values`, with the kept keys at what the kernel has (`actual`).
    func expected(_ values: KeepaliveValues, actual: KeepaliveValues) -> KeepaliveValues {
        values.keeping(kept.keys, from: actual)
    }

    /// `network namespace 4026532179 (podman frontend-1)`.
    var description: String { "network namespace \(identity.summary)" }
}

import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune namespaces`: every network namespace found, what it is, which rule and
/// profile apply (or why none does), and its values against them.
struct NamespacesCommand: Command {
    static let spec = CommandSpec(
        name: "namespaces",
        abstract: "List every network namespace, the profile [namespaces] gives it, and its drift.",
        discussion: """
        Namespaces are found as the daemon finds them: the nsfs bind mounts (/run/netns, \
        runtimes' pins), the container runtimes' files (podman, docker, containerd, CRI-O) and \
        every process's /proc/PID/ns/net. The first row is this command's own namespace \
        (kind 'host'), which keeps the [daemon] profile. A namespace no rule selects shows \
        why, and no expected values. Reading another namespace's values needs root \
        (CAP_SYS_ADMIN to enter it). Exits 0 when it could report, 1 with --check if a \
        managed namespace drifts, 2 if the config is invalid.
        """,
        options: GlobalOptions.specs + [check, GlobalOptions.json])

    static let check = OptionSpec.flag("check", help: "Exit 1 if a managed namespace drifts.")

    let options: GlobalOptions
    let checking: Bool

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        checking = arguments.flag(Self.check)
    }

    /// One namespace as shown.
    struct Row {
        let identity: NamespaceIdentity
        let decision: NamespaceRules.Decision
        let expected: KeepaliveValues?
        let actual: KeepaliveValues?
        /// Why the values could not be read, if they could not.
        let unreadable: String?
        let explicit: [Tunable: Int]

        var kind: String { identity.isOwn ? "host" : identity.label.kind }
        var name: String { identity.isOwn ? "(this namespace)" : identity.label.name }
        var drift: [ValueDifference]? {
            guard let expected, let actual else { return nil }
            return actual.differences(from: expected)
        }
    }

    func run() throws {
        let setup = options.setup
        let policy = try setup.policyOrExit(consequence: "cannot list namespaces")
        let rules = policy.config.namespaceRules
        let discovery = NamespaceDiscovery(syscalls: setup.syscalls)
        let found = discovery.scan(processes: true)
        let rows = found.identities.values.sorted { ($0.isOwn ? 0 : 1, $0.inode) < ($1.isOwn ? 0 : 1, $1.inode) }.map { identity in
            row(identity, found: found, rules: rules, policy: policy, setup: setup)
        }
        if options.json {
            Output.json(.object(["namespaces": .array(rows.map(json)),
                                 "manage": .string(rules.reach.rawValue),
                                 "hidden_processes": .int(found.hiddenProcesses)]))
        } else {
            print(table: rows, rules: rules, hidden: found.hiddenProcesses)
        }
        for problem in found.problems { Output.error("keepalived-tune: warning: \(problem)") }
        if checking, rows.contains(where: { $0.decision.profile != nil && $0.drift?.isEmpty == false }) { throw ExitStatus.drift }
    }

    private func row(_ identity: NamespaceIdentity, found: NamespaceDiscovery.Found, rules: NamespaceRules,
                     policy: Policy, setup: Setup) -> Row {
        let explicit = identity.explicit
        var actual: KeepaliveValues?, unreadable: String?
        if identity.isOwn {
            do { actual = try setup.sysctlTree().readAll() } catch { unreadable = "\(error)" }
        } else if let path = found.entries[identity.inode] {
            switch NamespaceEntry.openSysctls(at: path, inode: identity.inode, syscalls: setup.syscalls) {
            case .success(let descriptors):
                do { actual = try SysctlTree(pinned: descriptors, syscalls: setup.syscalls).readAll() } catch { unreadable = "\(error)" }
            case .failure(let failure): unreadable = "\(failure)"
            }
        }
        let expectation = rules.expectation(for: identity, policy: policy)
        let expected = actual.flatMap { expectation.expected(actual: $0) } ?? expectation.policy?.values
        return Row(identity: identity, decision: expectation.decision, expected: expected, actual: actual, unreadable: unreadable, explicit: explicit)
    }

    private func json(_ row: Row) -> JSONValue {
        .object([
            "inode": .int(Int(row.identity.inode)),
            "kind": .string(row.kind),
            "name": .string(row.name),
            "profile": row.decision.profile.map { .string($0.rawValue) } ?? .null,
            "managed": .bool(row.decision.profile != nil),
            "reason": .string(row.decision.reason),
            "expected": row.expected.map(ProfileJSON.values) ?? .null,
            "actual": row.actual.map(ProfileJSON.values) ?? .null,
            "drift": row.drift.map { .bool(!$0.isEmpty) } ?? .null,
            "explicit": .object(row.explicit.reduce(into: [:]) { $0[$1.key.sysctlName] = .int($1.value) }),
            "netns_names": .array(row.identity.netnsNames.map(JSONValue.string)),
            "containers": .array(row.identity.containers.map { container in
                .object(["runtime": .string(container.runtime.rawValue), "id": .string(container.id),
                         "name": .string(container.name), "pod": container.pod.jsonOrNull])
            }),
            "units": .array(row.identity.units.map(JSONValue.string)),
            "user_units": .array(row.identity.userUnits.map(JSONValue.string)),
            "unreadable": row.unreadable.jsonOrNull,
        ])
    }

    private func print(table rows: [Row], rules: NamespaceRules, hidden: Int) {
        var lines = [["INODE", "KIND", "NAME", "PROFILE", "EXPECTED", "KERNEL", "STATE", "EXPLICIT"]]
        for row in rows {
            let state: String
            if row.actual == nil { state = "unreadable" }
            else if row.decision.profile == nil { state = "unmanaged" }
            else { state = row.drift?.isEmpty == false ? "DRIFT" : "ok" }
            lines.append([String(row.identity.inode), row.kind, row.name, row.decision.profile?.rawValue ?? "-",
                          row.expected?.compact ?? "-", row.actual?.compact ?? "-", state,
                          row.explicit.isEmpty ? "-" : row.explicit.keys.sorted().map { "\($0.sysctlName.split(separator: ".").last!)=\(row.explicit[$0]!)" }.joined(separator: ",")])
        }
        Output.print(table: lines)
        Swift.print("")
        Swift.print("manage = \(rules.reach.rawValue)")
        for row in rows {
            Swift.print("\(row.identity.inode): \(row.decision.reason)\(row.unreadable.map { "; \($0)" } ?? "")")
        }
        if hidden > 0 { Swift.print("not seen: the namespaces of \(hidden) processes (another user's; run as root)") }
    }
}

import KeepaliveModel
import KeepaliveOS
#if canImport(Glibc)
import Glibc
#endif

/// `keepalived-tune apply [NAME]`: puts a profile in force once, all or nothing.
struct ApplyCommand: Command {
    static let spec = CommandSpec(
        name: "apply",
        abstract: "Apply a profile once, all or nothing.",
        discussion: """
        Without NAME, applies the configured profile with the config's [sysctl] overrides. \
        With NAME, applies that profile exactly as it resolves, and the config is not read. \
        Prints each change as 'key: old -> new'. If any write fails, the keys already changed \
        are restored. Exits 0 on success, 2 if the config or profile is invalid, 3 on a \
        system failure.
        """,
        options: GlobalOptions.specs + [EnteredNamespace.option],
        arguments: [ArgumentSpec(name: "name", help: "The profile to apply; the configured one when omitted.", optional: true)])

    let options: GlobalOptions
    let name: String?
    let netns: String?

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        name = arguments.argument(0)
        netns = arguments.value(EnteredNamespace.option)
    }

    func run() throws {
        let setup = options.setup
        let (resolvedLabel, resolvedTarget, policy) = try resolveTarget(setup)
        var (label, target) = (resolvedLabel, resolvedTarget)
        var namespace: EnteredNamespace?
        if let netns {
            // The rules of the config decide the profile there, as the daemon would (NAME wins).
            let config = policy?.config ?? setup.loadConfig().config
            let entered = try EnteredNamespace.enter(netns, setup: setup, rules: config.namespaceRules, daemonProfile: config.profileName)
            if let configured = policy {
                let held = entered.policy(configured)
                (label, target) = ("profile \(held.profile.name)", held.values)
            }
            if let current = try? entered.tree.readAll() { target = entered.expected(target, actual: current) }
            print("\(entered.description): \(entered.decision.reason)")
            namespace = entered
        }
        let netns = namespace?.inode ?? DaemonState.ownNetworkNamespace(syscalls: setup.syscalls)
        let record = WriterRecord(pid: getpid(), netns: netns, values: target, at: MonotonicClock.now())
        let report = Applier.apply(target, to: namespace?.tree ?? setup.sysctlTree(), record: record)
        guard report.succeeded else {
            for failure in report.failures { Output.error("keepalived-tune: \(failure)") }
            if report.leftInconsistent {
                Output.error("keepalived-tune: apply failed and could not restore every key; check the values above")
            } else if report.restored.isEmpty {
                Output.error("keepalived-tune: apply failed; nothing was changed")
            } else {
                Output.error("keepalived-tune: apply failed; restored \(report.restored.map(\.sysctlName).joined(separator: ", ")) to their previous values")
            }
            let verdict = FailureSeverity.verdict(errno: report.failures.first?.errno?.code, context: .command)
            if case .exit(let status) = verdict.consequence { throw status }
            throw ExitStatus.systemFailure
        }
        for change in report.changes {
            print("\(change.key.sysctlName): \(change.actual) -> \(change.expected)")
        }
        let already = report.changes.isEmpty ? " (already in force, nothing written)" : ""
        print("\(label) in force: \(target.compact)\(already)")
        // A daemon enforcing something else here will put its own profile back.
        if let daemon = DaemonState.running(in: setup.runtimeDirectory, syscalls: setup.syscalls), daemon.netns == netns, daemon.values != target {
            Output.error("keepalived-tune: note: the running keepalived-tune daemon (pid \(daemon.pid)) enforces profile \(daemon.profile) (\(daemon.values.compact)) and will put it back at its next check. To switch for good, set 'profile = \(name ?? "NAME")' in \(setup.configPath): the daemon applies a saved edit by itself")
        }
    }

    /// The label and values to apply: profile NAME, or the configured policy (returned too,
    /// for `--netns`; `nil` with NAME).
    private func resolveTarget(_ setup: Setup) throws -> (String, KeepaliveValues, Policy?) {
        guard let name else {
            let policy = try setup.policyOrExit(consequence: "nothing was applied")
            let overrides = policy.overriddenKeys.isEmpty ? "" : " with local overrides"
            return ("profile \(policy.profile.name)\(overrides)", policy.values, policy)
        }
        let profile = try setup.profileOrExit(named: name, consequence: "nothing was applied")
        return ("profile \(profile.name)", profile.values, nil)
    }
}

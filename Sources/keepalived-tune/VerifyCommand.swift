import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune verify`: compares the kernel with the configured policy.
struct VerifyCommand: Command {
    static let spec = CommandSpec(
        name: "verify",
        abstract: "Compare the kernel's values with the configured profile and overrides.",
        discussion: """
        Exits 0 if they match, 1 on drift (one line per key: expected vs actual), 2 if the \
        config is invalid, 3 if the values cannot be read.
        """,
        options: GlobalOptions.specs + [EnteredNamespace.option])

    let options: GlobalOptions
    let netns: String?

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        netns = arguments.value(EnteredNamespace.option)
    }

    func run() throws {
        let setup = options.setup
        var policy = try setup.policyOrExit(consequence: "cannot verify")
        let target = try netns.map { try EnteredNamespace.enter($0, setup: setup, rules: policy.config.namespaceRules, daemonProfile: policy.profile.name) }
        if let target { policy = target.policy(policy) }
        let actual = try setup.kernelValuesOrExit(target?.tree ?? setup.sysctlTree())
        let expected = target?.expected(policy.values, actual: actual) ?? policy.values
        if let target { print("\(target.description): \(target.decision.reason)") }
        let drift = actual.differences(from: expected)
        guard drift.isEmpty else {
            for difference in drift {
                print("\(difference.key.sysctlName): expected \(difference.expected), actual \(difference.actual)")
            }
            print("drift: \(drift.count) of 3 values differ from profile \(policy.profile.name)")
            throw ExitStatus.drift
        }
        print("in force: profile \(policy.profile.name) (\(policy.values.compact))")
    }
}

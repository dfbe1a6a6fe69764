import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune status`: the configured profile, expected vs kernel values, drift.
struct StatusCommand: Command {
    static let spec = CommandSpec(
        name: "status",
        abstract: "Show the configured profile, expected vs kernel values, drift and detection time.",
        discussion: "Exits 0 when it could report; 2 if the config is invalid, 3 if the kernel values cannot be read.",
        options: GlobalOptions.specs + [GlobalOptions.json])

    let options: GlobalOptions

    init(_ arguments: ParsedArguments) { options = GlobalOptions(arguments) }

    func run() throws {
        let setup = options.setup
        let load = setup.loadPolicy()
        guard let policy = load.policy else {
            Output.rejected(load.diagnostics, consequence: "no status without a valid config")
            throw ExitStatus.invalid
        }
        Output.diagnostics(load.diagnostics)
        let actual = try setup.kernelValuesOrExit(setup.sysctlTree())
        let drift = actual.differences(from: policy.values)
        let conflicts = setup.sysctlConfScanner().conflicts(with: policy.values)
        if options.json {
            Output.json(StatusJSON.make(policy: policy, actual: actual, drift: drift,
                                        configFiles: load.configFiles, conflicts: conflicts))
            return
        }
        let config = policy.config
        print("config:   \(Output.configFiles(load.configFiles, main: setup.configPath))")
        print("profile:  \(policy.profile.name): \(policy.profile.description)")
        print("source:   \(policy.profile.source)")
        print("policy:   on-drift \(config.driftPolicy.rawValue), check every \(TimeSpan.format(seconds: config.checkIntervalSeconds)), restore-on-stop \(config.restoresOnStop ? "yes" : "no")")
        print("")
        let rows = [["SYSCTL", "EXPECTED", "KERNEL", "STATE", "SET BY"]] + Tunable.allCases.map { key in
            [key.sysctlName, Output.value(policy.values[key], of: key), Output.value(actual[key], of: key),
             policy.values[key] == actual[key] ? "ok" : "DRIFT", policy.provenance[key]?.description ?? ""]
        }
        Output.table(rows).forEach { print($0) }
        print("")
        print("dead peers found after: \(actual.detectionDescription) now; \(Output.detection(policy.values.detectionSeconds)) with the profile")
        print(drift.isEmpty ? "state:    in force" : "state:    DRIFT (\(drift.count) of 3 values differ)")
        for conflict in conflicts { print("conflict: \(conflict.message)") }
    }
}

/// The JSON form of `status`: the profile's members plus expected, actual and drift.
enum StatusJSON {
    static func make(policy: Policy, actual: KeepaliveValues, drift: [ValueDifference],
                     configFiles: [String], conflicts: [SysctlConf.Conflict]) -> JSONValue {
        var members = ProfileJSON.profile(policy.profile)
        members["expected"] = ProfileJSON.values(policy.values)
        members["actual"] = ProfileJSON.values(actual)
        members["drift"] = .bool(!drift.isEmpty)
        members["drifted_keys"] = .array(drift.map { difference in
            .object(["sysctl": .string(difference.key.sysctlName),
                     "expected": .int(difference.expected), "actual": .int(difference.actual)])
        })
        members["config_files"] = .array(configFiles.map(JSONValue.string))
        members["on_drift"] = .string(policy.config.driftPolicy.rawValue)
        members["check_interval_seconds"] = .int(policy.config.checkIntervalSeconds)
        members["restore_on_stop"] = .bool(policy.config.restoresOnStop)
        members["actual_detection_seconds"] = actual.meaningfulDetectionSeconds.json
        members["actual_detection"] = .string(actual.detectionDescription)
        members["sysctl_conflicts"] = .array(conflicts.map { conflict in
            .object(["sysctl": .string(conflict.assignment.key.sysctlName),
                     "value": .string(conflict.assignment.value), "expected": .int(conflict.expected),
                     "file": .string(conflict.assignment.location.file),
                     "line": conflict.assignment.location.line.json])
        })
        return .object(members)
    }
}

import ArgumentParser
import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune status`: the configured profile, expected vs kernel values, drift.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the configured profile, expected vs kernel values, drift and detection time.",
        discussion: "Exits 0 when it could report; 2 if the config is invalid, 3 if the kernel values cannot be read.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let setup = options.setup
        let load = setup.loadPolicy()
        guard let policy = load.policy else {
            Output.rejected(load.diagnostics, consequence: "no status without a valid config")
            throw Exit.invalid
        }
        Output.diagnostics(load.diagnostics)
        let actual = try setup.kernelValuesOrExit(setup.sysctlTree())
        let drift = actual.differences(from: policy.values)
        let conflicts = setup.sysctlConfScanner().conflicts(with: policy.values)
        if json {
            try Output.json(StatusJSON(policy: policy, actual: actual, drift: drift,
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
        print("dead peers found after: \(Output.detection(actual.detectionSeconds)) now; \(Output.detection(policy.values.detectionSeconds)) with the profile")
        print(drift.isEmpty ? "state:    in force" : "state:    DRIFT (\(drift.count) of 3 values differ)")
        for conflict in conflicts { print("conflict: \(conflict.message)") }
    }
}

/// The JSON form of `status`: the profile, plus expected, actual and drift.
struct StatusJSON: Encodable {
    let profile: ProfileJSON
    let expected: KeepaliveValues
    let actual: KeepaliveValues
    let drift: [ValueDifference]
    let configFiles: [String]
    let onDrift: String
    let checkInterval: Int
    let restoreOnStop: Bool
    let conflicts: [SysctlConf.Conflict]

    init(policy: Policy, actual: KeepaliveValues, drift: [ValueDifference], configFiles: [String],
         conflicts: [SysctlConf.Conflict]) {
        self.conflicts = conflicts
        profile = ProfileJSON(policy.profile)
        expected = policy.values
        self.actual = actual
        self.drift = drift
        self.configFiles = configFiles
        onDrift = policy.config.driftPolicy.rawValue
        checkInterval = policy.config.checkIntervalSeconds
        restoreOnStop = policy.config.restoresOnStop
    }

    enum CodingKeys: String, CodingKey {
        case expected, actual, drift
        case driftedKeys = "drifted_keys"
        case configFiles = "config_files"
        case onDrift = "on_drift"
        case checkInterval = "check_interval_seconds"
        case restoreOnStop = "restore_on_stop"
        case actualDetection = "actual_detection_seconds"
        case conflicts = "sysctl_conflicts"
    }

    func encode(to encoder: any Encoder) throws {
        try profile.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ValuesJSON(expected.byKey), forKey: .expected)
        try container.encode(ValuesJSON(actual.byKey), forKey: .actual)
        try container.encode(!drift.isEmpty, forKey: .drift)
        try container.encode(drift.map(DriftJSON.init), forKey: .driftedKeys)
        try container.encode(configFiles, forKey: .configFiles)
        try container.encode(onDrift, forKey: .onDrift)
        try container.encode(checkInterval, forKey: .checkInterval)
        try container.encode(restoreOnStop, forKey: .restoreOnStop)
        try container.encode(actual.detectionSeconds, forKey: .actualDetection)
        try container.encode(conflicts.map(ConflictJSON.init), forKey: .conflicts)
    }
}

/// One drifted key in JSON.
struct DriftJSON: Encodable {
    let sysctl: String
    let expected: Int
    let actual: Int
    init(_ difference: ValueDifference) {
        sysctl = difference.key.sysctlName
        expected = difference.expected
        actual = difference.actual
    }
}

/// One sysctl.d line that disagrees with the policy, in JSON.
struct ConflictJSON: Encodable {
    let sysctl: String
    let value: String
    let expected: Int
    let file: String
    let line: Int?
    init(_ conflict: SysctlConf.Conflict) {
        sysctl = conflict.assignment.key.sysctlName
        value = conflict.assignment.value
        expected = conflict.expected
        file = conflict.assignment.location.file
        line = conflict.assignment.location.line
    }
}

import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune status`: the configured profile, expected vs kernel values, drift.
struct StatusCommand: Command {
    static let spec = CommandSpec(
        name: "status",
        abstract: "Show the configured profile, expected vs kernel values, drift and detection time.",
        discussion: """
            Exits 0 when it could report; 2 if the config is invalid, 3 if the kernel values cannot be read. \
            --prometheus prints the metrics a one-shot command can know (values, expected, drift, detection \
            time, config validity) in the format of the daemon's textfile, for a cron job or a quick look; \
            the counters and contest state live in the running daemon's textfile ([metrics] textfile).
            """,
        options: GlobalOptions.specs + [EnteredNamespace.option, GlobalOptions.json, prometheus])

    static let prometheus = OptionSpec.flag("prometheus", help: "Print Prometheus text exposition instead of text.")

    let options: GlobalOptions
    let netns: String?
    let prometheus: Bool

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        netns = arguments.value(EnteredNamespace.option)
        prometheus = arguments.flag(StatusCommand.prometheus)
    }

    func run() throws {
        let setup = options.setup
        let load = setup.loadPolicy()
        guard var policy = load.policy else {
            Output.rejected(load.diagnostics, consequence: "no status without a valid config")
            if prometheus {
                var snapshot = MetricsSnapshot(version: ProductVersion.current, profile: "", timestamp: WallClock.now())
                snapshot.configValid = false
                print(Exposition.render(snapshot), terminator: "")
            }
            throw ExitStatus.invalid
        }
        Output.diagnostics(load.diagnostics)
        let target = try netns.map { try EnteredNamespace.enter($0, setup: setup, rules: policy.config.namespaceRules, daemonProfile: policy.profile.name) }
        if let target { policy = target.policy(policy) }
        let actual = try setup.kernelValuesOrExit(target?.tree ?? setup.sysctlTree())
        let expected = target?.expected(policy.values, actual: actual) ?? policy.values
        let drift = actual.differences(from: expected)
        if prometheus {
            var snapshot = MetricsSnapshot(version: ProductVersion.current, profile: policy.profile.name.rawValue, timestamp: WallClock.now())
            snapshot.targets = [MetricsSnapshot.Target(netns: target?.identity.metricsLabel ?? MetricsSnapshot.host, actual: actual, expected: expected)]
            print(Exposition.render(snapshot), terminator: "")
            return
        }
        let conflicts = setup.sysctlConfScanner().conflicts(with: policy.values)
        if options.json {
            var json = StatusJSON.make(policy: policy, actual: actual, drift: drift,
                                       configFiles: load.configFiles, conflicts: conflicts)
            if case .object(var members) = json {
                members["originals"] = target == nil ? OriginalsView(setup).json : nil
                if let target {
                    members["netns"] = .object(["inode": .int(Int(target.inode)), "kind": .string(target.identity.label.kind),
                                                "name": .string(target.identity.label.name), "managed": .bool(target.decision.profile != nil),
                                                "reason": .string(target.decision.reason),
                                                "explicit": .object(target.kept.reduce(into: [:]) { $0[$1.key.sysctlName] = .int($1.value) })])
                }
                json = .object(members)
            }
            Output.json(json)
            return
        }
        let config = policy.config
        print("config:   \(Output.configFiles(load.configFiles, main: setup.configPath))")
        if let target {
            print("netns:    \(target.description): \(target.decision.reason)")
            for (key, value) in target.kept.sorted(by: { $0.key < $1.key }) {
                print("kept:     \(key.sysctlName) = \(value), set explicitly for the container (explicit-values = keep)")
            }
        }
        print("profile:  \(policy.profile.name): \(policy.profile.description)")
        print("source:   \(policy.profile.source)")
        print("policy:   on-drift \(config.driftPolicy.rawValue), check every \(TimeSpan.format(seconds: config.checkIntervalSeconds)), restore-on-stop \(config.restoresOnStop ? "yes" : "no")")
        print("")
        let rows = [["SYSCTL", "EXPECTED", "KERNEL", "STATE", "SET BY"]] + Tunable.allCases.map { key in
            [key.sysctlName, Output.value(expected[key], of: key), Output.value(actual[key], of: key),
             expected[key] == actual[key] ? "ok" : "DRIFT",
             target?.kept[key] != nil ? "the container (kept)" : policy.provenance[key]?.description ?? ""]
        }
        Output.table(rows).forEach { print($0) }
        print("")
        print("dead peers found after: \(actual.detectionDescription) now; \(Output.detection(policy.values.detectionSeconds)) with the profile")
        if target == nil { print("originals: \(OriginalsView(setup).text)") }
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

/// The originals the daemon saved in this boot (for `restore-on-stop`), as `status` shows
/// them. Only looked at: a file that cannot be trusted is left for the daemon to set aside.
struct OriginalsView {
    let path: String
    let loaded: OriginalsStore.Loaded
    /// The record of this command's own network namespace (its inode and cookie: never that
    /// of a namespace that had the inode before).
    let record: Originals.Record?

    init(_ setup: Setup) {
        let store = OriginalsStore(directory: setup.runtimeDirectory, syscalls: setup.syscalls, strictModes: setup.strictModes)
        path = store.path
        loaded = store.load(boot: OriginalsStore.bootID(syscalls: setup.syscalls), setAside: false)
        if case .found(let originals) = loaded {
            record = originals.records[Originals.Key(inode: DaemonState.ownNetworkNamespace(syscalls: setup.syscalls), cookie: NetworkNamespace.cookie(syscalls: setup.syscalls))]
        } else {
            record = nil
        }
    }

    var text: String {
        switch loaded {
        case .found where record != nil:
            return "\(record!.values.compact), found at first start, \(WallClock.format(record!.foundAt)), saved in \(path)"
        case .rejected(let reason, _):
            return "\(path) cannot be trusted (\(reason)); the daemon will set it aside"
        case .unreadable(let reason):
            return "\(path) cannot be read here (\(reason))"
        default:
            return "none saved in this boot (the daemon saves them in \(path) at its first start)"
        }
    }

    /// The saved originals, or `nil` (the key is left out) when there are none.
    var json: JSONValue? {
        guard let record else { return nil }
        return .object(["values": ProfileJSON.values(record.values), "saved_at": .string(WallClock.format(record.foundAt)),
                        "file": .string(path)])
    }
}

import KeepaliveModel
import KeepaliveOS
import Logging

/// Writes daemon events as structured log entries, one entry per event, always with the
/// same fields: `EVENT`, `MESSAGE_ID` and, where they apply, `PROFILE`, `SYSCTL`,
/// `EXPECTED`, `ACTUAL`, `CONFIG_FILE` and `CONFIG_LINE`.
public struct EventLog: Sendable {
    let logger: Logger
    /// Fields every entry of this log carries: for a managed namespace, `NETNS`,
    /// `NETNS_NAME` and `CONTAINER`, `POD` or `UNIT` where known.
    let context: [String: String]
    /// The metrics' counters, which count each event recorded here.
    let counters: MetricsCounterBox?
    /// The `netns` label of this log's namespace in the metrics.
    let netns: String

    /// A log that writes to `logger` and counts nothing (the command line's).
    public init(logger: Logger) {
        self.init(logger: logger, counters: nil)
    }

    /// The daemon's log: its own namespace's entries, counted into `counters`.
    init(logger: Logger, counters: MetricsCounterBox?) {
        self.init(logger: logger, context: [:], counters: counters, netns: MetricsSnapshot.host)
    }

    /// A log with every field given.
    private init(logger: Logger, context: [String: String], counters: MetricsCounterBox?, netns: String) {
        self.logger = logger
        self.context = context
        self.counters = counters
        self.netns = netns
    }

    /// This log, with `fields` added to every entry, for the namespace labelled `netns` in
    /// the metrics.
    func with(_ fields: [String: String], netns: String) -> EventLog {
        EventLog(logger: logger, context: context.merging(fields) { $1 }, counters: counters, netns: netns)
    }

    /// The kinds of event the metrics count: only their typed methods (CountedEvents.swift)
    /// record them, never ``record(_:_:fields:file:function:line:)``.
    static let countedKinds: Set<DaemonEvent> = [.drift, .corrected, .keepaliveEnabled, .namespaceGone, .namespaceReleased]

    /// Logs one event that the metrics do not count. `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`
    /// name the caller.
    func record(_ event: DaemonEvent, _ message: String, fields: [String: String] = [:],
                file: String = #fileID, function: String = #function, line: UInt = #line) {
        assert(!EventLog.countedKinds.contains(event), "\(event.rawValue) is counted: record it with its typed method")
        entry(event, message, fields: fields, counting: nil, file: file, function: function, line: line)
    }

    /// Counts `counted` (in this log's namespace) and logs one entry, from the same call:
    /// the one path every entry takes. Counted first, so whoever sees the entry (a test's
    /// log handler, on another thread) sees the count too.
    func entry(_ event: DaemonEvent, _ message: String, fields: [String: String], counting counted: CountedEvent?,
               file: String, function: String, line: UInt) {
        if let counted { count(counted) }
        var metadata: Logger.Metadata = ["EVENT": .string(event.rawValue), "MESSAGE_ID": .string(event.messageID)]
        for (key, value) in context { metadata[key] = .string(value) }
        for (key, value) in fields { metadata[key] = .string(value) }
        logger.log(level: event.level, Logger.Message(stringLiteral: message), metadata: metadata,
                   file: file, function: function, line: line)
    }

    /// Counts `event` in this log's namespace, for an event whose entries are recorded
    /// apart (a reload's).
    func count(_ event: CountedEvent) { counters?.count(event, netns: netns) }

    /// `applied`: `policy` was put in force (`reason`: start, reload, ...) with `changes`.
    func applied(_ policy: Policy, changes: [ValueDifference], reason: String,
                 file: String = #fileID, function: String = #function, line: UInt = #line) {
        let changed = changes.isEmpty ? "no value needed changing"
            : changes.map { "\($0.key.sysctlName) \($0.actual) -> \($0.expected)" }.joined(separator: ", ")
        record(.applied, "profile \(policy.profile.name) applied (\(reason)): \(policy.values.compact); \(changed)",
               fields: ["PROFILE": policy.profile.name.rawValue,
                        "EXPECTED": policy.values.compact,
                        "TCP_KEEPALIVE_TIME": String(policy.values.time),
                        "TCP_KEEPALIVE_INTVL": String(policy.values.intvl),
                        "TCP_KEEPALIVE_PROBES": String(policy.values.probes),
                        "CHANGES": String(changes.count)],
               file: file, function: function, line: line)
    }

    /// `contested`: a key was reset `resets` times within `window` seconds; it is left
    /// alone for `backoff` seconds.
    func contested(_ difference: ValueDifference, resets: Int, window: Int, backoff: Int, policy: Policy,
                   file: String = #fileID, function: String = #function, line: UInt = #line) {
        record(.contested, "contested: \(difference.key.sysctlName) was changed back \(resets) times within \(TimeSpan.format(seconds: window)) (now \(difference.actual), profile \(policy.profile.name) wants \(difference.expected)); something else is setting it. Not correcting it for \(TimeSpan.format(seconds: backoff)); find the other writer (sysctl.d, a container runtime, another tuning daemon)",
               fields: fields(difference, policy).merging(["RESETS": String(resets)]) { $1 },
               file: file, function: function, line: line)
    }

    /// An entry of kind `event` for a config diagnostic, with its file, line and code, and
    /// what happens next (`consequence`).
    func rejected(_ diagnostic: Diagnostic, event: DaemonEvent, consequence: String,
                  file: String = #fileID, function: String = #function, line: UInt = #line) {
        var extra = ["CONFIG_FILE": diagnostic.location.file, "DIAGNOSTIC": diagnostic.code.rawValue]
        if let configLine = diagnostic.location.line { extra["CONFIG_LINE"] = String(configLine) }
        record(event, "\(diagnostic.description); \(consequence)", fields: extra,
               file: file, function: function, line: line)
    }

    /// Logs a failed read or write with what happens next, as ``FailureSeverity`` judges
    /// it; returns that verdict.
    @discardableResult
    func failed(_ failure: SysctlFailure, profile: ProfileName, context: FailureSeverity.Context,
                target: FailureSeverity.Target = .own, checkEvery: Int = 5, file: String = #fileID,
                function: String = #function, line: UInt = #line) -> FailureSeverity.Verdict {
        let verdict = FailureSeverity.verdict(errno: failure.errno?.code, context: context, target: target,
                                              profile: profile.rawValue, checkEvery: checkEvery)
        applyFailed(failure, profile: profile, consequence: verdict.sentence, file: file, function: function, line: line)
        return verdict
    }

    /// `apply-failed`: a read or write failed, with what happens next (`consequence`).
    func applyFailed(_ failure: SysctlFailure, profile: ProfileName, consequence: String,
                     file: String = #fileID, function: String = #function, line: UInt = #line) {
        var extra = ["PROFILE": profile.rawValue, "SYSCTL": failure.key.sysctlName, "PATH": failure.path,
                     "OPERATION": failure.operation.rawValue]
        if let value = failure.value { extra["EXPECTED"] = String(value) }
        if let errno = failure.errno { extra["ERRNO"] = String(errno.code) }
        record(.applyFailed, "\(failure); \(consequence)", fields: extra,
               file: file, function: function, line: line)
    }

    /// `sysctl-conflict`: a sysctl.d file sets a key against `policy`.
    func conflict(_ conflict: SysctlConf.Conflict, policy: Policy,
                  file: String = #fileID, function: String = #function, line: UInt = #line) {
        record(.sysctlConflict, conflict.message, fields: [
            "PROFILE": policy.profile.name.rawValue, "SYSCTL": conflict.assignment.key.sysctlName,
            "EXPECTED": String(conflict.expected), "ACTUAL": conflict.assignment.value,
            "CONFIG_FILE": conflict.assignment.location.file,
            "CONFIG_LINE": conflict.assignment.location.line.map(String.init) ?? ""],
               file: file, function: function, line: line)
    }

    /// The fields of an entry about one key's value: `PROFILE`, `SYSCTL`, `EXPECTED`, `ACTUAL`.
    func fields(_ difference: ValueDifference, _ policy: Policy) -> [String: String] {
        ["PROFILE": policy.profile.name.rawValue, "SYSCTL": difference.key.sysctlName,
         "EXPECTED": String(difference.expected), "ACTUAL": String(difference.actual)]
    }
}

import KeepaliveModel
import KeepaliveOS

/// The events the metrics count, each recorded from typed values: the journal entry's
/// message and fields are built from them, and the ``CountedEvent`` is counted from them in
/// the same call. `CODE_FILE`/`CODE_LINE`/`CODE_FUNC` name the caller.
extension EventLog {
    /// `drift`: a key differs from the policy; counted per namespace and key.
    func drift(_ difference: ValueDifference, policy: Policy,
               file: String = #fileID, function: String = #function, line: UInt = #line) {
        let action = policy.config.driftPolicy == .enforce ? "restoring it" : "on-drift = warn, leaving it"
        entry(.drift, "drift: \(difference.key.sysctlName) is \(difference.actual), profile \(policy.profile.name) wants \(difference.expected); \(action)",
              fields: fields(difference, policy), counting: .drifted(difference.key),
              file: file, function: function, line: line)
    }

    /// `corrected`: a drifted key was written back; counted per namespace and key.
    func corrected(_ change: ValueDifference, policy: Policy,
                   file: String = #fileID, function: String = #function, line: UInt = #line) {
        entry(.corrected, "corrected: \(change.key.sysctlName) restored from \(change.actual) to \(change.expected) (profile \(policy.profile.name))",
              fields: fields(change, policy), counting: .corrected(change.key),
              file: file, function: function, line: line)
    }

    /// `keepalive-enabled`: the audit gave `count` sockets of `unit` (held by `pid`)
    /// keepalive; counted per unit. `gone` more of its planned sockets went away before the
    /// change (no failure: said in the message and in `GONE`, not counted).
    func keepaliveGiven(unit: String, pid: Int32, count: Int, gone: Int = 0,
                        file: String = #fileID, function: String = #function, line: UInt = #line) {
        var message = "gave keepalive to \(count) sockets of \(unit) (PID \(pid)); the namespace's keepalive profile now governs them"
        var fields = ["UNIT": unit, "PID": String(pid), "COUNT": String(count)]
        if gone > 0 {
            message += "; \(gone) more were gone before the change (closed, or the process exited)"
            fields["GONE"] = String(gone)
        }
        entry(.keepaliveEnabled, message, fields: fields, counting: .keepaliveGiven(unit: unit, count: count),
              file: file, function: function, line: line)
    }

    /// `namespace-gone`: this log's namespace, `identity`, ended; its series go.
    func namespaceGone(_ identity: NamespaceIdentity,
                       file: String = #fileID, function: String = #function, line: UInt = #line) {
        let label = identity.label
        entry(.namespaceGone, "namespace \(identity.summary) has ended; its state was dropped",
              fields: ["KIND": label.kind, "NAME": label.name], counting: .namespaceEnded,
              file: file, function: function, line: line)
    }

    /// `namespace-released`: after a reload no rule selects this log's namespace,
    /// `identity` (`because`); its values stay, its series go.
    func namespaceReleased(_ identity: NamespaceIdentity, because: String,
                           file: String = #fileID, function: String = #function, line: UInt = #line) {
        entry(.namespaceReleased, "namespace \(identity.summary) is no longer managed: \(because); its values are left as they are",
              fields: [:], counting: .namespaceEnded, file: file, function: function, line: line)
    }

    /// A reload put `policy` in force (`applied`, reason `reload`); counted as applied.
    func reloadApplied(_ policy: Policy, changes: [ValueDifference],
                       file: String = #fileID, function: String = #function, line: UInt = #line) {
        applied(policy, changes: changes, reason: "reload", file: file, function: function, line: line)
        count(.reloaded(applied: true))
    }

    /// A reload found the config invalid: one `reload-rejected` entry per error, with
    /// `consequence`; counted as one rejected reload.
    func reloadRejected(_ errors: [Diagnostic], consequence: String,
                        file: String = #fileID, function: String = #function, line: UInt = #line) {
        for diagnostic in errors {
            rejected(diagnostic, event: .reloadRejected, consequence: consequence, file: file, function: function, line: line)
        }
        count(.reloaded(applied: false))
    }

    /// A reload could not write its values (all rolled back): one `apply-failed` entry per
    /// failure, judged for a reload; counted as one rejected reload.
    func reloadFailed(_ failures: [SysctlFailure], profile: ProfileName,
                      file: String = #fileID, function: String = #function, line: UInt = #line) {
        for failure in failures { failed(failure, profile: profile, context: .reload, file: file, function: function, line: line) }
        count(.reloaded(applied: false))
    }
}

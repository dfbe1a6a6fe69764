import Logging

/// Everything the daemon reports, each kind with a fixed 128-bit `MESSAGE_ID` that the
/// catalog in `systemd/keepalived-tune.catalog` explains (`journalctl -x`).
public enum DaemonEvent: String, CaseIterable, Sendable {
    /// A profile was put in force (start, reload or config edit).
    case applied
    /// A kernel value differs from the policy.
    case drift
    /// A drifted value was written back.
    case corrected
    /// Something keeps resetting a value; corrections pause for a back-off period.
    case contested
    /// A reload found an invalid config or could not apply it; the last good policy stays.
    case reloadRejected = "reload-rejected"
    /// Writing the values failed (and what was written was rolled back).
    case applyFailed = "apply-failed"
    /// A sysctl.d file sets a keepalive key against the policy.
    case sysctlConflict = "sysctl-conflict"
    /// The daemon is up and the policy is in force.
    case started
    /// The daemon is shutting down.
    case stopping
    /// The daemon cannot set up its event sources; it exits.
    case startFailed = "start-failed"
    /// The config is invalid at start; the daemon exits.
    case configRejected = "config-rejected"
    /// A config or profile file has a warning (e.g. a repeated key); it is still used.
    case configWarning = "config-warning"
    /// The kernel values could not be read during a drift check.
    case checkFailed = "check-failed"
    /// The values found at start were put back on stop (`restore-on-stop = yes`).
    case restored
    /// The kernel's inotify queue overflowed: events were lost; the config is read again and
    /// every value re-checked.
    case eventsLost = "events-lost"
    /// The saved originals file cannot be trusted; it was set aside.
    case originalsRejected = "originals-rejected"
    /// The originals could not be saved in the runtime directory.
    case originalsNotSaved = "originals-not-saved"
    /// `WATCHDOG_USEC` asked for pings more often than the daemon honours.
    case watchdogClamped = "watchdog-clamped"
    /// A unit holds more connections that will never be reaped than `alert-never-reaped`.
    case connectionsUnreaped = "connections-unreaped"
    /// The audit gave keepalive to sockets of a unit named in `enable-keepalive`.
    case keepaliveEnabled = "keepalive-enabled"
    /// A connections audit, or keepalive for a socket, failed.
    case auditFailed = "audit-failed"
    /// Another network namespace came under a profile (`[namespaces]`).
    case namespaceAdopted = "namespace-adopted"
    /// A managed namespace ended; its state was dropped.
    case namespaceGone = "namespace-gone"
    /// A key a container's runtime set explicitly is left alone (`explicit-values = keep`).
    case explicitValueKept = "explicit-value-kept"
    /// After a reload, a managed namespace no rule selects any more; left as it is.
    case namespaceReleased = "namespace-released"
    /// `[namespaces]` asks for more than the daemon may do here (a capability, setns), or a
    /// namespace could not be entered.
    case namespacesLimited = "namespaces-limited"
    /// The metrics textfile could not be written (`[metrics] textfile`).
    case metricsFailed = "metrics-failed"
    /// The keepalive hook is in force for these workloads (`[sockets]`), or was taken off.
    case socketsHooked = "sockets-hooked"
    /// Another process wrote a keepalive key (the cgroup_sysctl hook): who, and what.
    case sysctlWritten = "sysctl-written"
    /// The kernel hooks cannot run here (`[bpf] mode = auto`: what takes over is said).
    case bpfUnavailable = "bpf-unavailable"

    /// The journal `MESSAGE_ID`, fixed per event kind.
    public var messageID: String {
        switch self {
        case .applied: "00536d6e1bbc4351b296064e0bea5056"
        case .drift: "c6f71427a99c4d76b034c25d742a2b76"
        case .corrected: "7e7d35e2dfd14fb8aea57362a76a01a9"
        case .contested: "28cdc508fc1d4a259c7ebbc58fd10431"
        case .reloadRejected: "e55e1a7eddda4989844b3bedac79ba31"
        case .applyFailed: "a694b562b811419f949812cec35f7c0b"
        case .sysctlConflict: "b5c9cf240be34bb3a7804eda6a3fdec9"
        case .started: "aaccf8f800794f80ab204cc3b6e1fb2f"
        case .stopping: "45024749bfe3479dae03a62b6a9b3010"
        case .startFailed: "3cafcd33829e439fa29943dea5c95216"
        case .configRejected: "55c0d5d67b6f43b4836444f8409e0953"
        case .configWarning: "c93b8d84aef54853bd0b15fa4b3e6746"
        case .checkFailed: "8c526372746d4b0aa7ae1777f6a00308"
        case .restored: "69421b05ae624bb2b14ae6188799d9b0"
        case .watchdogClamped: "5a3f6e0c9b8d4e21a7c4d93f2e1b6a08"
        case .eventsLost: "d2b7c41e8a5f4c3b9e06f1a27c8d5e94"
        case .originalsRejected: "7c0e93a1f54b4d6e8b2a1c9d3f6e0b47"
        case .originalsNotSaved: "e4a81b6c2d9f4a0e93c57b1d8f2e6a35"
        case .connectionsUnreaped: "2856cf6b640c434896ce3b5c783216e2"
        case .keepaliveEnabled: "9bf2d16672ff4dbb830eb041fe561ded"
        case .auditFailed: "93194cd6edbe4064a67ce97de9c8f44f"
        case .namespaceAdopted: "1a92dc139e604a84af16691ef93a393b"
        case .namespaceGone: "23fb57399d204faf95d500d54127a564"
        case .explicitValueKept: "4c47d31c95134d7bbfbfe52e7f51750b"
        case .namespaceReleased: "7af490fb714644a6a31d44e2d1c05ce9"
        case .namespacesLimited: "26062d8ddcd242008dccd36f63de99ae"
        case .metricsFailed: "e87c959668744ea69a520c0f9877a54a"
        case .socketsHooked: "5d1f0c7a3e8b4f29a6c2d4e81b7f3a90"
        case .bpfUnavailable: "b83e27d9c4a14f6e8d05a7c3e9f1b264"
        case .sysctlWritten: "f04c6a2e9b7d4e13a85c1d7f2b9e6a41"
        }
    }

    /// The priority entries of this kind are logged at.
    public var level: Logger.Level {
        switch self {
        case .applied, .corrected, .started, .stopping, .restored, .keepaliveEnabled,
             .namespaceAdopted, .namespaceGone, .explicitValueKept, .namespaceReleased, .socketsHooked, .sysctlWritten: .info
        case .drift, .sysctlConflict, .configWarning, .reloadRejected, .watchdogClamped, .eventsLost,
             .originalsRejected, .originalsNotSaved, .connectionsUnreaped, .auditFailed, .namespacesLimited, .metricsFailed, .bpfUnavailable: .warning
        case .contested, .applyFailed, .configRejected, .checkFailed, .startFailed: .error
        }
    }
}

/// The metric families keepalived-tune exports, in the order an exposition lists them, each
/// with its Prometheus type and help text.
///
/// The names follow Prometheus's conventions: the `keepalived_tune_` prefix, base units
/// (`_seconds`), `_total` on counters, `_info` on the info metric. Tests check that the
/// shipped alert rules and dashboard query only these names.
public enum MetricFamily: String, CaseIterable, Sendable {
    case info = "keepalived_tune_info"
    case configValid = "keepalived_tune_config_valid"
    case reloads = "keepalived_tune_reloads_total"
    case readOK = "keepalived_tune_read_ok"
    case sysctlValue = "keepalived_tune_sysctl_value"
    case sysctlExpected = "keepalived_tune_sysctl_expected"
    case drift = "keepalived_tune_drift"
    case driftEvents = "keepalived_tune_drift_events_total"
    case corrections = "keepalived_tune_corrections_total"
    case contested = "keepalived_tune_contested"
    case detection = "keepalived_tune_dead_peer_detection_seconds"
    case namespacesManaged = "keepalived_tune_namespaces_managed"
    case namespacesDrifting = "keepalived_tune_namespaces_drifting"
    case namespacesUnlisted = "keepalived_tune_namespaces_unlisted"
    case namespacesOverLimit = "keepalived_tune_namespaces_over_limit"
    case connections = "keepalived_tune_connections"
    case neverReaped = "keepalived_tune_connections_never_reaped"
    case keepaliveEnabled = "keepalived_tune_keepalive_enabled_total"
    case lastUpdate = "keepalived_tune_last_update_timestamp_seconds"

    /// The exposition's `# TYPE`.
    public var type: String {
        switch self {
        case .reloads, .driftEvents, .corrections, .keepaliveEnabled: "counter"
        default: "gauge"
        }
    }

    /// The exposition's `# HELP`.
    public var help: String {
        switch self {
        case .info: "keepalived-tune's version and the profile in force in its own namespace (always 1)."
        case .configValid: "Whether the config on disk was valid when last read (1) or a reload rejected it (0)."
        case .reloads: "Reloads (SIGHUP or a config edit), by result: applied or rejected."
        case .readOK: "Whether the sysctl could be read when last looked at (1) or not (0); an unread sysctl has no value, expected value or drift."
        case .sysctlValue: "The kernel's value of a keepalive sysctl, as last read, by network namespace."
        case .sysctlExpected: "The value the profile in force wants (or the container's own explicit value, kept)."
        case .drift: "Whether the sysctl differs from the profile now (1) or not (0)."
        case .driftEvents: "Times the sysctl was found drifted from the profile."
        case .corrections: "Times the daemon wrote the profile's value back."
        case .contested: "Whether the sysctl is contested and left alone for a back-off (1) or not (0)."
        case .detection: "How long a dead peer takes to be found by keepalive: time + intvl * probes."
        case .namespacesManaged: "Network namespaces besides the daemon's own that [namespaces] manages."
        case .namespacesDrifting: "Managed network namespaces where a key differs from the profile now (listed or not)."
        case .namespacesUnlisted: "Managed network namespaces without series of their own (the host and 20 others have them: those in trouble first)."
        case .namespacesOverLimit: "Network namespaces [namespaces] selects that stay unmanaged, for want of descriptors (RLIMIT_NOFILE)."
        case .connections: "TCP connections at the last audit, by unit (the top units; the rest as other), state and keepalive."
        case .neverReaped: "Connections at the last audit that nothing will ever reap, by unit."
        case .keepaliveEnabled: "Sockets the daemon gave keepalive ([connections] enable-keepalive), by unit."
        case .lastUpdate: "When the daemon last wrote these metrics (Unix time); written at least once a minute."
        }
    }
}

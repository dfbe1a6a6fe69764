/// Renders a ``MetricsSnapshot`` in Prometheus's text exposition format (version 0.0.4),
/// as node_exporter's textfile collector reads it: each family once, with `# HELP` and
/// `# TYPE`, in ``MetricFamily`` order; label values escaped; series in a stable order.
public enum Exposition {
    /// The whole exposition, ending in a newline.
    /// Per-namespace series are listed for the host and at most
    /// ``MetricsSnapshot/listedNamespaces`` others (``MetricsSnapshot/listing``).
    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var text = ""
        let listing = snapshot.listing
        func family(_ family: MetricFamily, _ samples: [(labels: [(String, String)], value: String)]) {
            guard !samples.isEmpty else { return }
            text += "# HELP \(family.rawValue) \(escapeHelp(family.help))\n# TYPE \(family.rawValue) \(family.type)\n"
            for sample in samples {
                let labels = sample.labels.isEmpty ? ""
                    : "{" + sample.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                text += "\(family.rawValue)\(labels) \(sample.value)\n"
            }
        }
        /// A series per key of every target, but where `value` has none.
        func perKey(_ value: (MetricsSnapshot.Target, Tunable) -> Int?) -> [(labels: [(String, String)], value: String)] {
            listing.targets.flatMap { target in
                Tunable.allCases.compactMap { key in
                    value(target, key).map { ([("netns", target.netns), ("sysctl", key.sysctlName)], String($0)) }
                }
            }
        }
        /// Like `perKey`, for what only a key that was read can show.
        func perReadKey(_ value: (MetricsSnapshot.Target, Tunable) -> Int) -> [(labels: [(String, String)], value: String)] {
            perKey { $0.unread.contains($1) ? nil : value($0, $1) }
        }
        func counted(_ counts: [MetricCounters.Series: Int]) -> [(labels: [(String, String)], value: String)] {
            // Every key of every target, at 0 until counted: a counter that appears only
            // on its first increment hides that increment from rate().
            // (Each under the label its count would take: its own, or `other`.)
            var all = counts
            let counters = snapshot.counters ?? MetricCounters()
            var labels = Set(listing.targets.map { counters.label(netns: $0.netns) })
            if counters.namespaceLabelsFull { labels.insert(MetricCounters.otherNamespaces) }
            for label in labels {
                for key in Tunable.allCases { all[MetricCounters.Series(netns: label, key: key), default: 0] += 0 }
            }
            return all.sorted { $0.key < $1.key }.map { ([("netns", $0.key.netns), ("sysctl", $0.key.key.sysctlName)], String($0.value)) }
        }

        family(.info, [([("version", snapshot.version), ("profile", snapshot.profile)], "1")])
        family(.configValid, [([], snapshot.configValid ? "1" : "0")])
        if let counters = snapshot.counters {
            family(.reloads, [([("result", "applied")], String(counters.reloadsApplied)),
                              ([("result", "rejected")], String(counters.reloadsRejected))])
        }
        family(.readOK, perKey { $0.unread.contains($1) ? 0 : 1 })
        family(.sysctlValue, perReadKey { $0.actual[$1] })
        family(.sysctlExpected, perReadKey { $0.expected[$1] })
        family(.drift, perReadKey { $0.actual[$1] != $0.expected[$1] ? 1 : 0 })
        if let counters = snapshot.counters {
            family(.driftEvents, counted(counters.driftEvents))
            family(.corrections, counted(counters.corrections))
            family(.contested, perKey { $0.contested.contains($1) ? 1 : 0 })
        }
        family(.detection, listing.targets.filter(\.unread.isEmpty).map { ([("netns", $0.netns)], String($0.actual.detectionSeconds)) })
        if let managed = snapshot.namespacesManaged { family(.namespacesManaged, [([], String(managed))]) }
        if snapshot.namespacesManaged != nil {
            family(.namespacesDrifting, [([], String(listing.drifting))])
            family(.namespacesUnlisted, [([], String(listing.unlisted))])
        }
        if let over = snapshot.namespacesOverLimit { family(.namespacesOverLimit, [([], String(over))]) }
        if let connections = snapshot.connections {
            family(.connections, connections.connections.sorted { $0.key < $1.key }.map {
                ([("unit", $0.key.unit), ("state", $0.key.state), ("keepalive", $0.key.keepalive)], String($0.value))
            })
            family(.neverReaped, connections.neverReaped.sorted { $0.key < $1.key }.map { ([("unit", $0.key)], String($0.value)) })
        }
        if let counters = snapshot.counters, !counters.keepaliveEnabled.isEmpty {
            family(.keepaliveEnabled, counters.keepaliveEnabled.sorted { $0.key < $1.key }.map { ([("unit", $0.key)], String($0.value)) })
        }
        family(.lastUpdate, [([], format(snapshot.timestamp))])
        return text
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func escapeLabel(_ value: String) -> String { escape(value, quote: true) }

    /// Help text with `\` and newlines escaped (a help text's `"` stays as it is).
    static func escapeHelp(_ value: String) -> String { escape(value, quote: false) }

    private static func escape(_ value: String, quote: Bool) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"" where quote: escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A Unix time with millisecond precision, as Prometheus prints floats.
    static func format(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let fraction = milliseconds % 1000
        return "\(milliseconds / 1000).\(fraction < 10 ? "00" : fraction < 100 ? "0" : "")\(fraction)"
    }
}

import KeepaliveModel
import Testing

/// The metrics, pure: the exposition's exact text, its escaping, the per-unit cap, the
/// counters, and `[metrics]` in the config.
@Suite("Metrics (pure)")
struct MetricsTests {
    static let server = KeepaliveValues(time: 1800, intvl: 30, probes: 3)

    @Test func aDaemonsSnapshotRendersEveryFamilyInOrder() throws {
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1_764_700_000.5)
        snapshot.targets = [
            .init(netns: "host", actual: KeepaliveValues(time: 7200, intvl: 30, probes: 3), expected: Self.server),
            .init(netns: "web-1", actual: Self.server, expected: Self.server, contested: [.probes]),
        ]
        var counters = MetricCounters()
        counters.drifted(netns: "host", key: .time)
        counters.corrected(netns: "web-1", key: .probes)
        counters.reloaded(applied: true)
        snapshot.counters = counters
        snapshot.namespacesManaged = 1
        let text = Exposition.render(snapshot)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(text.hasSuffix("\n"))
        #expect(lines.first == "# HELP keepalived_tune_info keepalived-tune's version and the profile in force in its own namespace (always 1).")
        #expect(lines.contains("keepalived_tune_info{version=\"0.1.0\",profile=\"server\"} 1"))
        #expect(lines.contains("keepalived_tune_reloads_total{result=\"applied\"} 1"))
        #expect(lines.contains("keepalived_tune_reloads_total{result=\"rejected\"} 0"))
        #expect(lines.contains("keepalived_tune_sysctl_value{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 7200"))
        #expect(lines.contains("keepalived_tune_sysctl_expected{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 1800"))
        #expect(lines.contains("keepalived_tune_drift{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 1"))
        #expect(lines.contains("keepalived_tune_drift{netns=\"web-1\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 0"))
        #expect(lines.contains("keepalived_tune_drift_events_total{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 1"))
        // Every series of a counter exists from the start, at 0.
        #expect(lines.contains("keepalived_tune_drift_events_total{netns=\"web-1\",sysctl=\"net.ipv4.tcp_keepalive_probes\"} 0"))
        #expect(lines.contains("keepalived_tune_corrections_total{netns=\"web-1\",sysctl=\"net.ipv4.tcp_keepalive_probes\"} 1"))
        #expect(lines.contains("keepalived_tune_contested{netns=\"web-1\",sysctl=\"net.ipv4.tcp_keepalive_probes\"} 1"))
        #expect(lines.contains("keepalived_tune_dead_peer_detection_seconds{netns=\"host\"} 7290"))
        #expect(lines.contains("keepalived_tune_namespaces_managed 1"))
        #expect(lines.last == "keepalived_tune_last_update_timestamp_seconds 1764700000.500")
        // Each family once, with HELP and TYPE, in the declared order.
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        let declared = MetricFamily.allCases.map(\.rawValue)
        #expect(types.map(String.init) == declared.filter { name in types.contains { $0 == name } })
        #expect(lines.contains("# TYPE keepalived_tune_corrections_total counter"))
        #expect(lines.contains("# TYPE keepalived_tune_drift gauge"))
        // No audit, no connection families.
        #expect(!text.contains("keepalived_tune_connections"))
    }

    /// A key whose read failed shows `read_ok 0` and nothing a read would tell: no value, no
    /// expected value, no drift, and its namespace no detection time. Its counters and
    /// contest state stay; the keys that were read show as ever.
    @Test func anUnreadKeyIsExportedAsUnreadNeverAsInForce() {
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1)
        snapshot.targets = [
            .init(netns: "host", actual: Self.server, expected: Self.server),
            .init(netns: "web-1", actual: Self.server, expected: Self.server, contested: [.intvl], unread: [.intvl]),
        ]
        snapshot.counters = MetricCounters()
        let lines = Set(Exposition.render(snapshot).split(separator: "\n").map(String.init))
        func series(_ family: MetricFamily, _ netns: String, _ key: String) -> String {
            "\(family.rawValue){netns=\"\(netns)\",sysctl=\"net.ipv4.tcp_keepalive_\(key)\"}"
        }
        #expect(lines.contains(series(.readOK, "web-1", "intvl") + " 0"))
        #expect(lines.contains(series(.readOK, "web-1", "time") + " 1") && lines.contains(series(.readOK, "host", "intvl") + " 1"))
        for family in [MetricFamily.sysctlValue, .sysctlExpected, .drift] {
            #expect(!lines.contains { $0.hasPrefix(series(family, "web-1", "intvl")) }, "\(family)")
            #expect(lines.contains(series(family, "web-1", "time") + (family == .drift ? " 0" : " 1800")), "\(family)")
        }
        #expect(!lines.contains { $0.hasPrefix("keepalived_tune_dead_peer_detection_seconds{netns=\"web-1\"}") })
        #expect(lines.contains("keepalived_tune_dead_peer_detection_seconds{netns=\"host\"} 1890"))
        #expect(lines.contains(series(.contested, "web-1", "intvl") + " 1"))
        #expect(lines.contains(series(.driftEvents, "web-1", "intvl") + " 0"))
    }

    @Test func aOneShotSnapshotHasNoDaemonCounters() {
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1)
        snapshot.targets = [.init(netns: "host", actual: Self.server, expected: Self.server)]
        let text = Exposition.render(snapshot)
        for family in [MetricFamily.reloads, .driftEvents, .corrections, .contested, .namespacesManaged] {
            #expect(!text.contains(family.rawValue + "{") && !text.contains(family.rawValue + " "), "\(family)")
        }
        #expect(text.contains("keepalived_tune_config_valid 1\n"))
    }

    @Test(arguments: [
        ("plain.service", "plain.service"),
        ("with \"quotes\"", "with \\\"quotes\\\""),
        ("back\\slash", "back\\\\slash"),
        ("new\nline", "new\\nline"),
    ])
    func labelValuesAreEscaped(_ raw: String, _ escaped: String) {
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1)
        snapshot.targets = [.init(netns: raw, actual: Self.server, expected: Self.server)]
        #expect(Exposition.render(snapshot).contains("keepalived_tune_dead_peer_detection_seconds{netns=\"\(escaped)\"} 1890\n"))
    }

    @Test func connectionsAreCappedToTheTopUnitsAndTheRestIsOther() {
        func connection(_ unit: String?, _ state: SocketRecord.State, inode: UInt64) -> AuditedConnection {
            var record = SocketRecord(state: state, timer: .none, inode: inode, idleMilliseconds: 600_000)
            record.keepalive = record.inferredKeepalive
            let input = AuditInput(sockets: [DiagSocket(local: "10.0.0.1:80", remote: "10.0.0.2:\(inode)", cgroupID: nil, record: record)],
                                   holders: unit == nil ? [:] : [inode: [.init(pid: 100, fd: 3)]],
                                   processes: unit.map { [100: HolderProcess(pid: 100, command: "x", unit: .system($0))] } ?? [:],
                                   unitsByCgroupID: [:], exact: [:], sysctls: ReapingSysctls(keepalive: Self.server))
            return ConnectionAudit(input).connections[0]
        }
        var audited: [AuditedConnection] = []
        var inode: UInt64 = 1
        // Twelve units: unit-00 holds 13 connections, unit-01 12, ... unit-11 2.
        for index in 0..<12 {
            for _ in 0..<(13 - index) {
                audited.append(connection("unit-\(index < 10 ? "0" : "")\(index).service", .established, inode: inode))
                inode += 1
            }
        }
        audited.append(connection(nil, .closeWait, inode: inode))
        let metrics = ConnectionMetrics(audited)
        let units = Set(metrics.connections.keys.map(\.unit))
        #expect(units.count == ConnectionMetrics.topUnits + 1)
        #expect(units.contains("other") && !units.contains("unit-10.service") && !units.contains("none"))
        #expect(metrics.connections[.init(unit: "other", state: "established", keepalive: "off")] == 3 + 2)
        #expect(metrics.connections[.init(unit: "other", state: "close_wait", keepalive: "off")] == 1)
        #expect(metrics.neverReaped["unit-00.service"] == 13)
        #expect(metrics.neverReaped["other"] == 3 + 2 + 1)
    }

    @Test func countersKeepTheirUnitLabelsAndForgetEndedNamespaces() {
        var counters = MetricCounters()
        for index in 0..<(MetricCounters.unitLabels + 2) { counters.gaveKeepalive(unit: "u\(index).service", count: 2) }
        counters.gaveKeepalive(unit: "u0.service", count: 1)
        #expect(counters.keepaliveEnabled.count == MetricCounters.unitLabels + 1)
        #expect(counters.keepaliveEnabled["u0.service"] == 3 && counters.keepaliveEnabled["other"] == 4)
        counters.drifted(netns: "web-1", key: .time)
        counters.drifted(netns: "host", key: .time)
        counters.forget(netns: "web-1")
        #expect(counters.driftEvents == [.init(netns: "host", key: .time): 1])
    }

    static func parse(_ text: String) -> (DaemonConfig, [Diagnostic]) {
        DaemonConfig.parse([SourceText(path: "/etc/keepalived-tune/keepalived-tune.conf", text: text)])
    }

    @Test func theTextfileIsAnAbsolutePromFile() throws {
        let (config, diagnostics) = Self.parse("[metrics]\ntextfile = /var/lib/prometheus/node-exporter/keepalived-tune.prom\n")
        #expect(diagnostics.isEmpty)
        #expect(config.metricsTextfile == "/var/lib/prometheus/node-exporter/keepalived-tune.prom")
        #expect(Self.parse("").0.metricsTextfile == nil)
    }

    @Test(arguments: [
        ("keepalived-tune.prom", "is not an absolute path"),
        ("/var/lib/../../etc/x.prom", "is not an absolute path"),
        ("/var/lib/prometheus/node-exporter/keepalived-tune.txt", "does not end in .prom"),
        ("/var/lib/prometheus/node-exporter/.prom", "does not end in .prom"),
    ])
    func aBadTextfileIsAnErrorAtItsLine(_ value: String, _ problem: String) throws {
        let (_, diagnostics) = Self.parse("[metrics]\n\ntextfile = \(value)\n")
        let diagnostic = try #require(diagnostics.first)
        #expect(diagnostics.count == 1 && diagnostic.severity == .error)
        #expect(diagnostic.location.line == 3 && diagnostic.description.contains(problem), "\(diagnostic)")
    }
}

import KeepaliveModel
import Testing

/// How many series a fleet of namespaces makes (issue 32, finding 13): bounded, whatever the
/// fleet's size. A hundred managed namespaces, a few of them in trouble, rendered whole.
@Suite("Metrics cardinality (pure)")
struct MetricsCardinalityTests {
    static let server = KeepaliveValues(time: 1800, intvl: 30, probes: 3)
    static let drifted = KeepaliveValues(time: 7200, intvl: 30, probes: 3)

    /// host and `count` managed namespaces `ns-000`...; `ns-050`, `ns-070` and `ns-099`
    /// drift, `ns-080` cannot be read, `ns-090` is contested; drift was counted in the
    /// first `counted` namespaces, in order.
    static func fleet(_ count: Int, counted: Int = 0) -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1)
        snapshot.targets = [.init(netns: "host", actual: server, expected: server)]
        var counters = MetricCounters()
        counters.drifted(netns: "host", key: .time)
        for index in 0..<count {
            let name = "ns-" + String(repeating: "0", count: 3 - String(index).count) + String(index)
            let actual = [50, 70, 99].contains(index) ? drifted : server
            snapshot.targets.append(.init(netns: name, actual: actual, expected: server,
                                          contested: index == 90 ? [.probes] : [], unread: index == 80 ? [.intvl] : []))
            if index < counted { counters.drifted(netns: name, key: .time) }
        }
        snapshot.counters = counters
        snapshot.namespacesManaged = count
        return snapshot
    }

    /// The `netns` labels of one family's series.
    func labels(_ text: String, _ family: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { $0.hasPrefix(family + "{netns=\"") }.map {
            String($0.dropFirst(family.count + 8).prefix { $0 != "\"" })
        })
    }

    func sample(_ text: String, _ series: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.map { String($0.dropFirst(series.count + 1)) }
    }

    @Test func aLargeFleetListsTheHostAndTwentyNamespacesTroubledFirst() {
        let text = Exposition.render(Self.fleet(100))
        for family in ["keepalived_tune_read_ok", "keepalived_tune_sysctl_value", "keepalived_tune_sysctl_expected",
                       "keepalived_tune_drift", "keepalived_tune_contested", "keepalived_tune_dead_peer_detection_seconds"] {
            let listed = labels(text, family)
            #expect(listed.count <= 21, "\(family): \(listed.count) namespaces")
            #expect(listed.contains("host"), "\(family)")
        }
        let listed = labels(text, "keepalived_tune_drift")
        #expect(listed.isSuperset(of: ["ns-050", "ns-070", "ns-099", "ns-090"]), "the drifting and contested are listed: \(listed.sorted())")
        #expect(labels(text, "keepalived_tune_read_ok").contains("ns-080"), "the unread one too")
        #expect(listed.count == 21)
        #expect(sample(text, "keepalived_tune_namespaces_managed") == "100")
        #expect(sample(text, "keepalived_tune_namespaces_unlisted") == "80")
        #expect(sample(text, "keepalived_tune_namespaces_drifting") == "3")
        // The textfile's size no longer grows with the fleet.
        let larger = Exposition.render(Self.fleet(1_000))
        #expect(larger.utf8.count - text.utf8.count < 64, "\(text.utf8.count) bytes at 100 namespaces, \(larger.utf8.count) at 1,000")
        #expect(larger.utf8.count < 64 << 10)
    }

    /// The counters keep a label for the host and the first twenty namespaces counted;
    /// later ones count as `other`, so nothing counted is lost and no label moves.
    @Test func countersNameTheFirstTwentyNamespacesCountedAndTheRestAsOther() {
        let text = Exposition.render(Self.fleet(100, counted: 30))
        let named = labels(text, "keepalived_tune_drift_events_total")
        #expect(named.count <= 22, "\(named.count): \(named.sorted())")
        #expect(named.contains("host") && named.contains("other") && named.contains("ns-000") && !named.contains("ns-029"))
        let total = text.split(separator: "\n").filter { $0.hasPrefix("keepalived_tune_drift_events_total{") }
            .compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(total == 31, "every drift counted, host's included")
        #expect(sample(text, "keepalived_tune_drift_events_total{netns=\"other\",sysctl=\"net.ipv4.tcp_keepalive_time\"}") == "10")
    }

    /// A small fleet is listed whole, as before.
    @Test func aSmallFleetIsListedWhole() {
        let text = Exposition.render(Self.fleet(12))
        #expect(labels(text, "keepalived_tune_sysctl_value").count == 13)
        #expect(sample(text, "keepalived_tune_namespaces_unlisted") == "0")
    }
}

import Foundation
import KeepaliveTestKit
import Testing

/// The metrics of a fleet (issue 32, finding 13), written by a real daemon that manages 25
/// `ip netns` namespaces made in its own mount namespace: the host and 20 namespaces have
/// series of their own, the others are counted; a namespace that drifts is among the
/// listed at once.
@Suite("Metrics of a fleet", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil && ChildProcessLookup.path(of: "nsenter") != nil,
                Comment(rawValue: DaemonUnderTest.unavailableReason ?? "nsenter is not installed")))
struct DaemonMetricsCardinalityTests {
    /// The `netns` labels of the detection-time family, one series per listed namespace.
    static func listed(_ text: String) -> Set<String> {
        let family = "keepalived_tune_dead_peer_detection_seconds{netns=\""
        return Set(text.split(separator: "\n").filter { $0.hasPrefix(family) }.map { String($0.dropFirst(family.count).prefix { $0 != "\"" }) })
    }

    @Test func twentyFiveNamespacesListTheHostAndTwentyAndCountTheRest() throws {
        let metrics = try TemporaryDirectory("kt-metrics")
        let path = metrics.url("kt.prom")
        let textfile = try TextfileWatch(path)
        let daemon = try DaemonUnderTest.started(config: serverConfig + """
            check-interval = 1s
            on-drift = warn
            [metrics]
            textfile = \(path)
            [namespaces]
            manage = matching
            [namespaces.rules]
            web = netns:kt-web-*

            """)
        let names = (1...25).map { "kt-web-\($0)" }
        let made = try daemon.runInMountNamespace(["sh", "-c", "for n in \(names.joined(separator: " ")); do ip netns add $n || exit 1; done"])
        #expect(made.status == 0, "\(made)")

        let full = try #require(textfile.wait { $0.contains("\nkeepalived_tune_namespaces_managed 25\n") },
                                "\(textfile.last ?? "(no file)")\n\(daemon.journalText)")
        #expect(Self.listed(full).count == 21, "\(Self.listed(full).sorted())")
        #expect(Self.listed(full).contains("host"))
        #expect(full.contains("\nkeepalived_tune_namespaces_unlisted 5\n"), "\(full)")
        #expect(full.contains("\nkeepalived_tune_namespaces_drifting 0\n"), "\(full)")
        if DaemonMetricsTests.promtool != nil { try DaemonMetricsTests.expectPromtoolAccepts(full, "25 namespaces") }

        // One left out drifts (on-drift = warn keeps it drifted): it is listed from then on.
        let unlisted = try #require(names.first { !Self.listed(full).contains($0) })
        let write = try daemon.runInMountNamespace(["ip", "netns", "exec", unlisted, "sysctl", "-qw", "net.ipv4.tcp_keepalive_time=999"])
        #expect(write.status == 0, "\(write)")
        let drifting = try #require(textfile.wait { $0.contains("\nkeepalived_tune_namespaces_drifting 1\n") },
                                    "\(textfile.last ?? "(no file)")\n\(daemon.journalText)")
        #expect(Self.listed(drifting).count == 21)
        #expect(drifting.contains("keepalived_tune_drift{netns=\"\(unlisted)\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 1"), "\(drifting)")
        #expect(drifting.contains("keepalived_tune_drift_events_total{netns=\"\(unlisted)\",sysctl=\"net.ipv4.tcp_keepalive_time\"} 1"), "\(drifting)")
    }
}

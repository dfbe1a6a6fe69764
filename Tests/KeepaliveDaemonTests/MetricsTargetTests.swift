@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// What an enforcer's keys show in the metrics, in-process on a fake sysctl root: the values
/// read, and a key that cannot be read exported as unread (`read_ok 0`), never as the
/// profile's value in force.
@Suite("Metrics of a target (in-process)")
struct MetricsTargetTests {
    static let start = Instant(microseconds: 1_000_000_000)

    /// The file of `key` in the fake root, holding text no kernel would show: its read fails.
    static func garble(_ fixture: EnforcerTests.Fixture, _ key: Tunable) throws {
        try fixture.root.directory.write(key.relativePath, "garbled\n")
    }

    @Test func theValuesLastReadAreExported() throws {
        let fixture = try EnforcerTests.Fixture()
        try fixture.root.set("tcp_keepalive_probes", 9)
        fixture.check(at: 1)   // drift found and corrected: nothing read since the write
        let target = fixture.enforcer.metricsTarget(netns: "host", at: Self.start)
        #expect(target.unread.isEmpty && target.actual == KeepaliveValues(time: 1800, intvl: 30, probes: 3))
        #expect(target.expected == target.actual)
    }

    /// Issue 26 #5: with nothing read since the start, a failed read once showed the
    /// profile's values, "in force, drift 0".
    @Test func aKeyUnreadSinceTheStartIsExportedAsUnread() throws {
        let fixture = try EnforcerTests.Fixture()
        try Self.garble(fixture, .intvl)
        let target = fixture.enforcer.metricsTarget(netns: "host", at: Self.start)
        #expect(target.unread == [.intvl])
        #expect(target.actual.time == 1800 && target.actual.probes == 3, "the keys read show what the kernel has")
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1)
        snapshot.targets = [target]
        let text = Exposition.render(snapshot)
        #expect(text.contains("keepalived_tune_read_ok{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_intvl\"} 0\n"))
        #expect(!text.contains("keepalived_tune_sysctl_value{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_intvl\"}"))
        #expect(!text.contains("keepalived_tune_drift{netns=\"host\",sysctl=\"net.ipv4.tcp_keepalive_intvl\"}"))
    }

    /// A check that fails leaves the values of the check before: they are not exported as
    /// still read; each key is read again for the metrics, and shows again once it reads.
    @Test func aFailedCheckIsNotExportedWithTheValuesOfTheCheckBefore() throws {
        let fixture = try EnforcerTests.Fixture()
        fixture.check(at: 1)
        #expect(fixture.enforcer.lastSeen != nil)
        try Self.garble(fixture, .probes)
        fixture.check(at: 2)
        #expect(fixture.eventNames.last == "check-failed")
        #expect(fixture.enforcer.metricsTarget(netns: "host", at: Self.start).unread == [.probes])
        try fixture.root.set("tcp_keepalive_probes", 3)
        let healed = fixture.enforcer.metricsTarget(netns: "host", at: Self.start)
        #expect(healed.unread.isEmpty && healed.actual == KeepaliveValues(time: 1800, intvl: 30, probes: 3))
    }
}

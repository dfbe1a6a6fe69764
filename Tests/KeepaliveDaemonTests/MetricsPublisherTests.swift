import Foundation
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The metrics textfile's writer, in-process: its deadlines driven with explicit instants (no
/// sleep), its writes seen through a recording seam, its one `metrics-failed` entry through
/// swift-log's InMemoryLogHandler.
@Suite("Metrics publisher (in-process)")
struct MetricsPublisherTests {
    /// A publisher writing into a directory of the test's own.
    struct Fixture {
        let directory: TemporaryDirectory
        let trace = SyscallTrace()
        let logged = LoggedEvents()
        let counters = MetricsCounterBox()
        let publisher: MetricsPublisher
        var path: String { directory.url("keepalived-tune.prom") }
        let start = Instant(microseconds: 5_000_000_000)

        init() throws {
            directory = try TemporaryDirectory("kt-publisher")
            publisher = MetricsPublisher(counters: counters, log: EventLog(logger: logged.logger, counters: counters),
                                         syscalls: Syscalls.live.recording(into: trace))
        }

        /// The instant `seconds` after the start.
        func at(_ seconds: Int) -> Instant { start + .seconds(seconds) }

        /// How many times the file was put in place (each write is one rename over it).
        var writes: Int { trace.calls.filter { $0.name == "rename" && $0.subject == path }.count }

        /// The file's text now.
        func text() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

        /// The `metrics-failed` entries so far.
        var failures: [[String: String]] { logged.events.filter { $0["EVENT"] == "metrics-failed" } }
    }

    /// A loop's snapshot of the daemon's own namespace under `profile`, taken at `timestamp`.
    static func snapshot(_ profile: String = "server", timestamp: Double = 1_764_700_000) -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(version: "0.1.0", profile: profile, timestamp: timestamp)
        let values = KeepaliveValues(time: 1800, intvl: 30, probes: 3)
        snapshot.targets = [.init(netns: MetricsSnapshot.host, actual: values, expected: values)]
        snapshot.counters = MetricCounters()
        return snapshot
    }

    @Test func withoutATextfileNothingIsDueAndNothingIsWritten() throws {
        let fixture = try Fixture()
        #expect(!fixture.publisher.isActive && fixture.publisher.deadline == .never)
        fixture.publisher.publish(Self.snapshot(), at: fixture.at(0))
        #expect(fixture.trace.calls.isEmpty)
    }

    /// Written whole (beside the file, then renamed over it) at the first publish; then only
    /// when something changed, or once the minute is up, whatever the timestamp says.
    @Test func writtenWholeWhenChangedAndOnceAMinuteNeverOnAnUnchangedTurn() throws {
        let fixture = try Fixture()
        fixture.publisher.configure(fixture.path)
        #expect(fixture.publisher.isActive && fixture.publisher.deadline == Instant(microseconds: 0), "due at once")
        fixture.publisher.publish(Self.snapshot(), at: fixture.at(0))
        #expect(fixture.writes == 1)
        #expect(try fixture.text() == Exposition.render(Self.snapshot()))
        #expect(fixture.trace.calls.filter { $0.subject == fixture.path }.map(\.name) == ["rename"], "never written where it lies")
        #expect(fixture.publisher.deadline == fixture.at(60))

        fixture.publisher.publish(Self.snapshot(timestamp: 1_764_700_010), at: fixture.at(10))
        #expect(fixture.writes == 1, "an unchanged snapshot is not written again before the minute")
        fixture.publisher.publish(Self.snapshot("web", timestamp: 1_764_700_020), at: fixture.at(20))
        #expect(fixture.writes == 2)
        #expect(try fixture.text() == Exposition.render(Self.snapshot("web", timestamp: 1_764_700_020)))
        #expect(fixture.publisher.deadline == fixture.at(80))

        fixture.publisher.publish(Self.snapshot("web", timestamp: 1_764_700_079), at: fixture.at(79))
        #expect(fixture.writes == 2)
        fixture.publisher.publish(Self.snapshot("web", timestamp: 1_764_700_080), at: fixture.at(80))
        #expect(fixture.writes == 3, "the minute is up")
        #expect(try fixture.text().hasSuffix("keepalived_tune_last_update_timestamp_seconds 1764700080.000\n"))
        #expect(fixture.failures.isEmpty)
    }

    /// A write that fails is logged once, with the path, however often it fails; once one
    /// succeeds, the next failure is logged again.
    @Test func aFailedWriteIsReportedOnceUntilOneSucceeds() throws {
        let fixture = try Fixture()
        let missing = fixture.directory.url("gone/keepalived-tune.prom")
        fixture.publisher.configure(missing)
        fixture.publisher.publish(Self.snapshot(), at: fixture.at(0))
        fixture.publisher.publish(Self.snapshot("web"), at: fixture.at(1))
        fixture.publisher.publish(Self.snapshot("web"), at: fixture.at(61))
        #expect(fixture.failures.count == 1, "\(fixture.failures)")
        let failure = try #require(fixture.failures.first)
        #expect(failure["PATH"] == missing)
        #expect(failure["MESSAGE"]?.hasPrefix("cannot write the metrics textfile: cannot create \(missing).tmp: ") == true, "\(failure)")

        try fixture.directory.makeDirectory("gone")
        fixture.publisher.publish(Self.snapshot("nat"), at: fixture.at(62))
        #expect(FileManager.default.fileExists(atPath: missing) && fixture.failures.count == 1)
        try FileManager.default.removeItem(atPath: fixture.directory.url("gone"))
        fixture.publisher.publish(Self.snapshot("server"), at: fixture.at(63))
        #expect(fixture.failures.count == 2, "failing again after a success is news")
    }

    /// The audit's counts: kept until the loop has written once, then written at once with
    /// the loop's last snapshot and the counters as they are now.
    @Test func anAuditIsWrittenAtOnceWithTheLoopsLastSnapshotAndTheCountersNow() throws {
        let fixture = try Fixture()
        fixture.publisher.configure(fixture.path)
        let audited = ConnectionMetrics()
        fixture.publisher.audited(audited)
        #expect(fixture.writes == 0, "the loop writes first")
        fixture.publisher.publish(Self.snapshot(), at: fixture.at(0))
        #expect(fixture.writes == 1)
        fixture.counters.count(.keepaliveGiven(unit: "app.service", count: 4), netns: MetricsSnapshot.host)
        fixture.publisher.audited(audited)
        #expect(fixture.writes == 2)
        #expect(try fixture.text().contains("keepalived_tune_keepalive_enabled_total{unit=\"app.service\"} 4\n"))
    }
}

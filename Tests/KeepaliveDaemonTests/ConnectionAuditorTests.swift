import Foundation
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The connections audit, in-process: its thread is started from a private network
/// namespace the test made (so it audits that namespace, and only it), against real TCP
/// connections; what it finds is asserted through the log (swift-log's InMemoryLogHandler),
/// the counters and the metrics textfile, each awaited as an event; and `stop()` ends the
/// thread. Root only (unshare); nothing the test did not create is changed.
@Suite("Connections auditor (in-process)",
       .enabled(if: PrivateNetworkNamespace.unavailableReason == nil, Comment(rawValue: PrivateNetworkNamespace.unavailableReason ?? "")))
struct ConnectionAuditorTests {
    /// An auditor logging and counting into the test's log and counters, with a metrics
    /// textfile whose every write signals `written`, to be started inside `namespace`.
    final class Audited {
        let namespace: PrivateNetworkNamespace
        let logged = LoggedEvents()
        let counters = MetricsCounterBox()
        let directory: TemporaryDirectory
        let written = DispatchSemaphore(value: 0)
        let publisher: MetricsPublisher
        let auditor: ConnectionAuditor
        private var stopped = false

        /// `beforeRetrofit` runs on the audit's thread between a sweep's plan and its act.
        init(beforeRetrofit: @escaping @Sendable () -> Void = {}) throws {
            namespace = try PrivateNetworkNamespace()
            let up = try namespace.run { try ChildProcess.run(["ip", "link", "set", "lo", "up"]) }
            try #require(up.status == 0, "\(up)")
            directory = try TemporaryDirectory("kt-auditor")
            var seam = Syscalls.live
            let rename = seam.rename, written = written
            seam.rename.body = { from, to in
                let result = rename(from, to)
                written.signal()
                return result
            }
            let log = EventLog(logger: logged.logger, counters: counters)
            publisher = MetricsPublisher(counters: counters, log: log, syscalls: seam)
            publisher.configure(directory.url("keepalived-tune.prom"))
            auditor = ConnectionAuditor(log: log, setup: Setup(), metrics: publisher, beforeRetrofit: beforeRetrofit)
        }

        /// Ends the audit's thread even when a test failed before it did.
        deinit { stop() }

        /// Stops the auditor, once (its thread is joined).
        func stop() {
            guard !stopped else { return }
            stopped = true
            auditor.stop()
        }

        /// The loop's first write (the audit's writes build on it).
        func publishOnce() throws {
            var snapshot = MetricsSnapshot(version: "0.1.0", profile: "server", timestamp: 1)
            snapshot.counters = counters.value
            publisher.publish(snapshot, at: MonotonicClock.now())
            try awaitWrite()
        }

        /// Starts the audit's thread inside the namespace, with the `[connections]` settings.
        func start(_ settings: String) throws {
            let (config, diagnostics) = DaemonConfig.parse([SourceText(path: "/test.conf", text: "[connections]\n" + settings)])
            try #require(diagnostics.isEmpty, "\(diagnostics)")
            try namespace.run { self.auditor.configure(config) }
        }

        /// Waits for the next write of the textfile, and returns its text.
        @discardableResult
        func awaitWrite() throws -> String {
            try #require(written.wait(timeout: .now() + MessageLog.defaultTimeout) == .success, "the textfile was never written")
            return try String(contentsOfFile: directory.url("keepalived-tune.prom"), encoding: .utf8)
        }
    }

    /// A connection without keepalive, made in the namespace: the first audit warns about
    /// its two ends (alert-never-reaped = 0) and writes their counts to the textfile; stop()
    /// joins the thread. (That the audit ran in the namespace shows in what it found: the
    /// dump is the namespace's own. No thread count is compared: any thread a thread in the
    /// namespace starts, a Dispatch worker among them, inherits it, so the count is not the
    /// auditor's alone and made this test flaky.)
    @Test func anAuditOnItsThreadReportsTheNamespacesConnections() throws {
        let audited = try Audited()
        let connection = try audited.namespace.run { try LoopbackConnection(port: 41_600) }
        defer { connection.close() }
        try audited.publishOnce()
        try audited.start("audit-interval = 1h\nalert-never-reaped = 0\n")
        let alert = try #require(audited.logged.await("connections-unreaped"), "\(audited.logged.events)")
        #expect(alert["COUNT"] == "2" && alert["PID"] == String(getpid()), "\(alert)")
        #expect(alert["STATES"] == "2 ESTABLISHED", "\(alert)")
        let text = try audited.awaitWrite()
        let lines = text.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("keepalived_tune_connections{") && $0.hasSuffix(",state=\"established\",keepalive=\"off\"} 2") }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("keepalived_tune_connections_never_reaped{") && $0.hasSuffix("} 2") }, "\(text)")
        audited.stop()   // returns once the thread is joined: it has ended
        #expect(audited.logged.events.filter { $0["EVENT"] == "audit-failed" }.isEmpty, "\(audited.logged.events)")
    }

    /// Live peers whose server is in a unit (a cgroup the fixture makes), in the test's
    /// namespace: the audit gives the unit's five connections and its listener keepalive,
    /// logs it once and counts it, and the textfile shows the count.
    @Test(.enabled(if: LivePeers.unavailableReason == nil, Comment(rawValue: LivePeers.unavailableReason ?? "")))
    func keepaliveGivenIsLoggedAndCounted() throws {
        let audited = try Audited()
        let thread = try audited.namespace.run { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self") }
        let unit = "kt-test-auditor-\(getpid()).service"
        let peers = try LivePeers(["--join", String(thread.split(separator: "/").last!), "--unit", unit, "--connections", "5"])
        defer { peers.stop() }
        try audited.publishOnce()
        try audited.start("audit-interval = 1h\nenable-keepalive = \(unit)\n")
        defer { audited.stop() }
        let given = try #require(audited.logged.await("keepalive-enabled"), "\(audited.logged.events)")
        #expect(given["UNIT"] == unit && given["COUNT"] == "6" && given["PID"] == String(peers.server), "\(given)")
        #expect(audited.counters.value.keepaliveEnabled == [unit: 6])
        #expect(try audited.awaitWrite().contains("keepalived_tune_keepalive_enabled_total{unit=\"\(unit)\"} 6\n"))
    }

    /// Issue 32, findings 14 and 1: between the sweep's plan and its act (the sweep is held
    /// there) the server closes two of its five connections and puts an AF_UNIX socket at the
    /// descriptor of a third. Nothing failed: the two left and the listener are given
    /// keepalive, the three others are said (`GONE`), the UNIX socket is left alone, and no
    /// `audit-failed` is logged.
    @Test(.enabled(if: LivePeers.unavailableReason == nil, Comment(rawValue: LivePeers.unavailableReason ?? "")))
    func connectionsClosedOrReplacedBetweenPlanAndActAreNoFailure() throws {
        let meanwhile = Meanwhile()
        let audited = try Audited(beforeRetrofit: { meanwhile.run() })
        let thread = try audited.namespace.run { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self") }
        let unit = "kt-test-gone-\(getpid()).service"
        let peers = try LivePeers(["--join", String(thread.split(separator: "/").last!), "--unit", unit, "--connections", "5"])
        defer { peers.stop() }
        meanwhile.set {
            _ = try? peers.command("close")
            _ = try? peers.command("replace")
        }
        try audited.publishOnce()
        try audited.start("audit-interval = 1h\nenable-keepalive = \(unit)\n")
        defer { audited.stop() }
        let given = try #require(audited.logged.await("keepalive-enabled"), "\(audited.logged.events)")
        #expect(meanwhile.ran, "the sweep was held between its plan and its act")
        #expect(given["COUNT"] == "3" && given["GONE"] == "3" && given["PID"] == String(peers.server), "\(given)")
        #expect(audited.counters.value.keepaliveEnabled == [unit: 3])
        #expect(try peers.command("unix-keepalive") == "ok unix-keepalive AF_UNIX 0", "the UNIX socket at a planned descriptor was left alone")
        audited.stop()
        #expect(audited.logged.events.filter { $0["EVENT"] == "audit-failed" }.isEmpty, "\(audited.logged.events)")
    }

    /// What a test does between a sweep's plan and its act, set once the world it changes exists.
    final class Meanwhile: @unchecked Sendable {
        private let lock = NSLock()
        private var action: () -> Void = {}
        private var done = false

        /// Sets what to do.
        func set(_ action: @escaping () -> Void) { lock.withLock { self.action = action } }

        /// Does it (on the audit's thread).
        func run() {
            let action = lock.withLock { done = true; return self.action }
            action()
        }

        /// Whether it was done.
        var ran: Bool { lock.withLock { done } }
    }
}

import Glibc
import InMemoryLogging
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Logging
import Testing

/// The enforcer's decisions, in-process and in microseconds: a fake sysctl root stands in for
/// /proc/sys, swift-log's InMemoryLogHandler collects the events, and the clock is whatever
/// the test says. (The child-process tests prove the same end to end.)
@Suite("Enforcer (in-process)")
struct EnforcerTests {
    /// An enforcer on a fake root, with the log it writes to.
    struct Fixture {
        let root: FakeSysctlRoot
        let enforcer: Enforcer
        let logs: InMemoryLogHandler
        let inotify: Inotify
        let start = Instant(microseconds: 1_000_000_000)

        init(driftPolicy: DriftPolicy = .enforce, syscalls: Syscalls = .live) throws {
            root = try FakeSysctlRoot()
            logs = InMemoryLogHandler()
            let handler = logs
            let log = EventLog(logger: Logger(label: "test") { _ in handler })
            inotify = try Inotify(syscalls: syscalls)
            let tree = SysctlTree(root: root.path, syscalls: syscalls)
            let watch = SysctlWatch(inotify: inotify, tree: tree) { _, _ in }
            var config = DaemonConfig()
            config.onDrift = Located(driftPolicy, at: SourceLocation(file: "test.conf", line: 1))
            let policy = Policy(config: config, profile: serverProfile)
            enforcer = try Enforcer.start(policy, tree: tree, watch: watch, log: log, at: start).get().0
        }

        /// The events logged so far, each as its metadata fields as text.
        var events: [[String: String]] {
            logs.entries.map { entry in entry.metadata.mapValues { "\($0)" }.merging(["MESSAGE": "\(entry.message)"]) { $1 } }
        }

        /// The `EVENT` of every entry so far.
        var eventNames: [String] { events.compactMap { $0["EVENT"] } }

        /// Lets the enforcer check at `seconds` after the start, as after an inotify hint.
        @discardableResult
        func check(at seconds: Int) -> Bool {
            enforcer.hint()
            return enforcer.tick(at: start + .seconds(seconds))
        }
    }

    /// The live seam, with every open for writing refused with EROFS while `toggle` is on
    /// (a read-only /proc/sys).
    static func refusingWrites(while toggle: Toggle) -> Syscalls {
        var calls = Syscalls.live
        let realOpen = calls.open
        calls.open.body = { path, flags in
            if flags & O_WRONLY != 0, toggle.isOn { return .failure(Errno(EROFS)) }
            return realOpen(path, flags)
        }
        return calls
    }

    static let serverProfile = ResolvedProfile(name: ProfileName("server")!, description: "d",
                                               values: KeepaliveValues(time: 1800, intvl: 30, probes: 3),
                                               provenance: [:], source: "s", chain: ["s"])

    @Test func startAppliesAndRemembersTheOriginals() throws {
        let fixture = try Fixture()
        #expect(try fixture.root.compact() == "1800/30/3")
        #expect(fixture.enforcer.originals == .kernelDefaults)
        #expect(fixture.eventNames == ["applied"])
    }

    @Test func driftIsReportedOnceAndCorrected() throws {
        let fixture = try Fixture()
        try fixture.root.set("tcp_keepalive_time", 7200)
        #expect(fixture.check(at: 1))
        let drift = try #require(fixture.events.first { $0["EVENT"] == "drift" })
        #expect(drift["SYSCTL"] == "net.ipv4.tcp_keepalive_time")
        #expect(drift["EXPECTED"] == "1800")
        #expect(drift["ACTUAL"] == "7200")
        #expect(drift["PROFILE"] == "server")
        #expect(fixture.eventNames == ["applied", "drift", "corrected"])
        #expect(try fixture.root.compact() == "1800/30/3")
        #expect(fixture.enforcer.remainingDrift.isEmpty)
        fixture.check(at: 2)   // the check after the correction: in force, nothing to say
        #expect(!fixture.check(at: 3), "an unchanged check is the idle check")
        #expect(fixture.eventNames == ["applied", "drift", "corrected"])
    }

    @Test func warnModeReportsOnceAndLeavesTheValue() throws {
        let fixture = try Fixture(driftPolicy: .warn)
        try fixture.root.set("tcp_keepalive_intvl", 75)
        fixture.check(at: 1)
        fixture.check(at: 2)
        #expect(fixture.eventNames == ["applied", "drift"])
        #expect(fixture.events.last?["MESSAGE"]?.hasSuffix("on-drift = warn, leaving it") == true)
        #expect(try fixture.root.compact() == "1800/75/3")
        #expect(fixture.enforcer.remainingDrift == [ValueDifference(key: .intvl, expected: 30, actual: 75)])
    }

    @Test func aKeyResetMoreThanFiveTimesAMinuteIsContestedThenLeftAloneThenResumed() throws {
        let fixture = try Fixture()
        for second in 1...5 {
            try fixture.root.set("tcp_keepalive_time", 7200)
            fixture.check(at: second)
        }
        try fixture.root.set("tcp_keepalive_time", 7200)
        fixture.check(at: 6)
        #expect(fixture.eventNames.filter { $0 == "corrected" }.count == 5)
        #expect(fixture.eventNames.last == "contested")
        #expect(fixture.events.last?["RESETS"] == "6")
        #expect(!fixture.enforcer.watch.isWatching(.time), "its writes no longer wake the daemon")
        #expect(fixture.enforcer.watch.isWatching(.intvl))
        #expect(fixture.enforcer.contested(at: fixture.start + .seconds(7)) == [.time])
        #expect(fixture.enforcer.deadline == fixture.start + .seconds(11), "the next periodic check")
        fixture.check(at: 100)
        #expect(try fixture.root.compact() == "7200/30/3", "left alone during the back-off")
        fixture.check(at: 304)
        #expect(fixture.enforcer.deadline == fixture.start + .seconds(306), "the loop wakes when the back-off ends")
        #expect(!fixture.eventNames.dropFirst(12).contains("corrected"))
        fixture.check(at: 306)
        #expect(fixture.enforcer.watch.isWatching(.time))
        #expect(fixture.eventNames.last == "corrected")
        #expect(try fixture.root.compact() == "1800/30/3")
    }

    @Test func aFailedCorrectionIsReportedAndRetriedAtTheNextCheck() throws {
        let readOnly = Toggle()
        let fixture = try Fixture(syscalls: Self.refusingWrites(while: readOnly))
        try fixture.root.set("tcp_keepalive_probes", 9)
        readOnly.set(true)
        fixture.check(at: 1)
        readOnly.set(false)
        #expect(fixture.eventNames == ["applied", "drift", "apply-failed"])
        #expect(fixture.events.last?["ERRNO"] == "\(EROFS)")
        #expect(fixture.enforcer.remainingDrift.map(\.key) == [.probes])
        #expect(try fixture.root.compact() == "1800/30/9")
        fixture.check(at: 2)
        #expect(fixture.eventNames.last == "corrected")
        #expect(try fixture.root.compact() == "1800/30/3")
    }

    /// Issue 19 #8: a write the kernel refuses is not another writer. Ten failed
    /// corrections are one apply-failed entry with the errno, never a contest; once the
    /// file is writable again the next check corrects it.
    @Test func failedWritesAreReportedOnceAndNeverCountAsAContest() throws {
        let readOnly = Toggle()
        let fixture = try Fixture(syscalls: Self.refusingWrites(while: readOnly))
        readOnly.set(true)
        for second in 1...10 {
            try fixture.root.set("tcp_keepalive_time", 7200 + second % 2)
            fixture.check(at: second)
        }
        #expect(!fixture.eventNames.contains("contested"), "\(fixture.eventNames)")
        #expect(fixture.eventNames.filter { $0 == "apply-failed" }.count == 1, "\(fixture.eventNames)")
        let failed = try #require(fixture.events.first { $0["EVENT"] == "apply-failed" })
        #expect(failed["ERRNO"] == "\(EROFS)")
        #expect(failed["MESSAGE"]?.contains("read-only") == true)
        readOnly.set(false)
        fixture.check(at: 11)
        #expect(fixture.eventNames.last == "corrected")
        #expect(try fixture.root.compact() == "1800/30/3")
    }

    /// Issue 19 #9: once a key is contested, the other writer may vary the value as it
    /// likes: nothing more is logged for that key until the back-off ends, and nothing
    /// claims a restore.
    @Test func aContestedKeyIsNotReportedAgainDuringItsBackOffWhateverValueItTakes() throws {
        let fixture = try Fixture()
        for second in 1...6 {
            try fixture.root.set("tcp_keepalive_time", 7200)
            fixture.check(at: second)
        }
        #expect(fixture.eventNames.last == "contested")
        let logged = fixture.eventNames.count
        for second in 7...60 {
            try fixture.root.set("tcp_keepalive_time", 7200 + second % 2)
            fixture.check(at: second)
        }
        #expect(fixture.eventNames.count == logged, "\(fixture.eventNames.dropFirst(logged))")
    }

    /// The idle budget, held by a test instead of a comment: once the values are in force,
    /// a check that finds them unchanged makes exactly three preads through kept-open
    /// descriptors: no open, no close, no write, nothing else.
    @Test func anUnchangedCheckMakesExactlyThreePreads() throws {
        let trace = SyscallTrace()
        let fixture = try Fixture(syscalls: Syscalls.live.recording(into: trace))
        fixture.check(at: 1)   // the first check after start reads and remembers the values
        trace.clear()
        #expect(!fixture.enforcer.tick(at: fixture.start + .seconds(6)), "the periodic check found nothing")
        #expect(trace.names == ["pread", "pread", "pread"], "\(trace.calls)")
        trace.clear()
        #expect(!fixture.enforcer.tick(at: fixture.start + .seconds(7)), "not due yet")
        #expect(trace.calls.isEmpty)
    }
}

/// A switch a test flips while a fake seam reads it.
final class Toggle: @unchecked Sendable {
    private var on = false
    var isOn: Bool { on }
    func set(_ value: Bool) { on = value }
}

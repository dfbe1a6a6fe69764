@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import Testing

/// What the metrics count, in-process: ``MetricsCounterBox`` counts each typed event, and
/// each counted ``EventLog`` method records the journal entry it always did (message and
/// fields to the letter) and counts exactly its event, in its namespace.
@Suite("Counted events (in-process)")
struct CountedEventsTests {
    /// Events counted in order, each in a namespace, and the counters they leave.
    struct CounterCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let events: [(CountedEvent, String)]
        var drift: [MetricCounters.Series: Int] = [:]
        var corrections: [MetricCounters.Series: Int] = [:]
        var applied = 0
        var rejected = 0
        var keepalive: [String: Int] = [:]
    }

    static func series(_ netns: String, _ key: Tunable) -> MetricCounters.Series { .init(netns: netns, key: key) }

    static let counterCases: [CounterCase] = [
        .init(testDescription: "drift, per namespace and key", events: [(.drifted(.time), "host"), (.drifted(.time), "host"), (.drifted(.probes), "web-1")],
              drift: [series("host", .time): 2, series("web-1", .probes): 1]),
        .init(testDescription: "corrections, per namespace and key", events: [(.corrected(.intvl), "host"), (.corrected(.intvl), "web-1")],
              corrections: [series("host", .intvl): 1, series("web-1", .intvl): 1]),
        .init(testDescription: "keepalive given, summed per unit whatever the namespace",
              events: [(.keepaliveGiven(unit: "app.service", count: 3), "host"), (.keepaliveGiven(unit: "app.service", count: 2), "web-1"),
                       (.keepaliveGiven(unit: "db.service", count: 1), "host")],
              keepalive: ["app.service": 5, "db.service": 1]),
        .init(testDescription: "a namespace ended: its series go, the others stay",
              events: [(.drifted(.time), "web-1"), (.corrected(.time), "web-1"), (.drifted(.time), "host"), (.namespaceEnded, "web-1")],
              drift: [series("host", .time): 1]),
        .init(testDescription: "reloads, by result", events: [(.reloaded(applied: true), "host"), (.reloaded(applied: false), "host"), (.reloaded(applied: false), "host")],
              applied: 1, rejected: 2),
    ]

    @Test(arguments: counterCases)
    func theBoxCountsEachTypedEvent(_ counted: CounterCase) {
        let box = MetricsCounterBox()
        for (event, netns) in counted.events { box.count(event, netns: netns) }
        let value = box.value
        #expect(value.driftEvents == counted.drift)
        #expect(value.corrections == counted.corrections)
        #expect(value.reloadsApplied == counted.applied && value.reloadsRejected == counted.rejected)
        #expect(value.keepaliveEnabled == counted.keepalive)
    }

    /// One call of a counted method: the entries it must log (`EVENT`, `MESSAGE`, fields
    /// beside `EVENT` and `MESSAGE_ID`), and the one event it must count in `netns`.
    struct LogCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        var inNamespace = false
        let call: @Sendable (EventLog) -> Void
        let entries: [(event: DaemonEvent, message: String, fields: [String: String])]
        let counted: CountedEvent
    }

    static let server = EnforcerTests.serverProfile
    static func policy(_ drift: DriftPolicy = .enforce) -> Policy {
        var config = DaemonConfig()
        config.onDrift = Located(drift, at: SourceLocation(file: "test.conf", line: 1))
        return Policy(config: config, profile: server)
    }

    /// The fields a member's log adds to every entry, for the namespace labelled `web-1`.
    static let member = ["NETNS": "4026532179", "NETNS_NAME": "web-1"]
    static let web1: NamespaceIdentity = {
        var identity = NamespaceIdentity(inode: 4_026_532_179)
        identity.netnsNames = ["web-1"]
        return identity
    }()

    static let timeDrift = ValueDifference(key: .time, expected: 1800, actual: 7200)
    static let intvlFixed = ValueDifference(key: .intvl, expected: 30, actual: 75)
    static let keyFields = ["PROFILE": "server", "SYSCTL": "net.ipv4.tcp_keepalive_time", "EXPECTED": "1800", "ACTUAL": "7200"]
    static let missing = Diagnostic.error(.unknownKey, at: SourceLocation(file: "/etc/k.conf", line: 3), "unknown key 'x'")
    static let empty = Diagnostic.error(.configEmpty, at: SourceLocation(file: "/etc/k.conf.d/a.conf", line: nil), "the file is empty")
    static let shortWrite = SysctlFailure(key: .time, path: "/proc/sys/net/ipv4/tcp_keepalive_time", operation: .write, value: 1800,
                                          detail: "short write")

    static let logCases: [LogCase] = [
        .init(testDescription: "drift, enforced", call: { $0.drift(timeDrift, policy: policy()) },
              entries: [(.drift, "drift: net.ipv4.tcp_keepalive_time is 7200, profile server wants 1800; restoring it", keyFields)],
              counted: .drifted(.time)),
        .init(testDescription: "drift in a namespace, warned", inNamespace: true, call: { $0.drift(timeDrift, policy: policy(.warn)) },
              entries: [(.drift, "drift: net.ipv4.tcp_keepalive_time is 7200, profile server wants 1800; on-drift = warn, leaving it",
                         keyFields.merging(member) { $1 })],
              counted: .drifted(.time)),
        .init(testDescription: "corrected", call: { $0.corrected(intvlFixed, policy: policy()) },
              entries: [(.corrected, "corrected: net.ipv4.tcp_keepalive_intvl restored from 75 to 30 (profile server)",
                         ["PROFILE": "server", "SYSCTL": "net.ipv4.tcp_keepalive_intvl", "EXPECTED": "30", "ACTUAL": "75"])],
              counted: .corrected(.intvl)),
        .init(testDescription: "keepalive given", call: { $0.keepaliveGiven(unit: "app.service", pid: 4242, count: 6) },
              entries: [(.keepaliveEnabled, "gave keepalive to 6 sockets of app.service (PID 4242); the namespace's keepalive profile now governs them",
                         ["UNIT": "app.service", "PID": "4242", "COUNT": "6"])],
              counted: .keepaliveGiven(unit: "app.service", count: 6)),
        .init(testDescription: "keepalive given, some gone before", call: { $0.keepaliveGiven(unit: "app.service", pid: 4242, count: 4, gone: 2) },
              entries: [(.keepaliveEnabled, "gave keepalive to 4 sockets of app.service (PID 4242); the namespace's keepalive profile now governs them; "
                            + "2 more were gone before the change (closed, or the process exited)",
                         ["UNIT": "app.service", "PID": "4242", "COUNT": "4", "GONE": "2"])],
              counted: .keepaliveGiven(unit: "app.service", count: 4)),
        .init(testDescription: "namespace gone", inNamespace: true, call: { $0.namespaceGone(web1) },
              entries: [(.namespaceGone, "namespace 4026532179 (netns web-1) has ended; its state was dropped",
                         member.merging(["KIND": "netns", "NAME": "web-1"]) { $1 })],
              counted: .namespaceEnded),
        .init(testDescription: "namespace released", inNamespace: true,
              call: { $0.namespaceReleased(web1, because: "no rule selects it") },
              entries: [(.namespaceReleased, "namespace 4026532179 (netns web-1) is no longer managed: no rule selects it; its values are left as they are", member)],
              counted: .namespaceEnded),
        .init(testDescription: "reload applied", call: { $0.reloadApplied(policy(), changes: [timeDrift]) },
              entries: [(.applied, "profile server applied (reload): 1800/30/3; net.ipv4.tcp_keepalive_time 7200 -> 1800",
                         ["PROFILE": "server", "EXPECTED": "1800/30/3", "TCP_KEEPALIVE_TIME": "1800", "TCP_KEEPALIVE_INTVL": "30",
                          "TCP_KEEPALIVE_PROBES": "3", "CHANGES": "1"])],
              counted: .reloaded(applied: true)),
        .init(testDescription: "reload rejected: an entry per error, one reload",
              call: { $0.reloadRejected([missing, empty], consequence: "reload rejected; still enforcing profile server") },
              entries: [(.reloadRejected, "/etc/k.conf:3: error: unknown key 'x' [unknown-key]; reload rejected; still enforcing profile server",
                         ["CONFIG_FILE": "/etc/k.conf", "CONFIG_LINE": "3", "DIAGNOSTIC": "unknown-key"]),
                        (.reloadRejected, "/etc/k.conf.d/a.conf: error: the file is empty [config-empty]; reload rejected; still enforcing profile server",
                         ["CONFIG_FILE": "/etc/k.conf.d/a.conf", "DIAGNOSTIC": "config-empty"])],
              counted: .reloaded(applied: false)),
        .init(testDescription: "reload failed to write: an entry per failure, one reload",
              call: { $0.reloadFailed([shortWrite], profile: server.name) },
              entries: [(.applyFailed, "cannot write 1800 to /proc/sys/net/ipv4/tcp_keepalive_time: short write; reload rejected; still enforcing profile server",
                         ["PROFILE": "server", "SYSCTL": "net.ipv4.tcp_keepalive_time", "PATH": "/proc/sys/net/ipv4/tcp_keepalive_time",
                          "OPERATION": "write", "EXPECTED": "1800"])],
              counted: .reloaded(applied: false)),
    ]

    @Test(arguments: logCases)
    func eachCountedMethodLogsItsEntryAndCountsItsEvent(_ logged: LogCase) throws {
        let events = LoggedEvents()
        let netns = logged.inNamespace ? "web-1" : MetricsSnapshot.host
        // The box already holds counts in that namespace (which an ended namespace loses).
        let box = MetricsCounterBox(), reference = MetricsCounterBox()
        for event in [CountedEvent.drifted(.time), .corrected(.intvl)] {
            box.count(event, netns: netns)
            reference.count(event, netns: netns)
        }
        let daemonLog = EventLog(logger: events.logger, counters: box)
        logged.call(logged.inNamespace ? daemonLog.with(Self.member, netns: netns) : daemonLog)
        let entries = events.events
        try #require(entries.count == logged.entries.count, "\(entries)")
        for (entry, expected) in zip(entries, logged.entries) {
            #expect(entry["MESSAGE"] == expected.message)
            #expect(entry.filter { $0.key != "MESSAGE" }
                    == expected.fields.merging(["EVENT": expected.event.rawValue, "MESSAGE_ID": expected.event.messageID]) { $1 })
        }
        reference.count(logged.counted, netns: netns)
        #expect(box.value == reference.value, "counted exactly \(logged.counted) in \(netns)")
    }

    /// The kinds only a typed method may record are exactly those the typed methods record
    /// and count per entry (a reload's entries are counted once per reload instead).
    @Test func theCountedKindsAreThoseOfTheTypedMethods() {
        let perEntry = Self.logCases.filter { if case .reloaded = $0.counted { false } else { true } }
        #expect(Set(perEntry.flatMap { $0.entries.map(\.event) }) == EventLog.countedKinds)
    }

    /// The command line's log counts nothing, and says the same.
    @Test func aLogWithoutCountersOnlyLogs() {
        let events = LoggedEvents()
        EventLog(logger: events.logger).drift(Self.timeDrift, policy: Self.policy())
        #expect(events.events.map { $0["EVENT"] } == ["drift"])
    }
}

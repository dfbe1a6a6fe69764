import Foundation
import KeepaliveTestKit
import Testing

/// With the periodic re-read an hour away, a correction can only come from inotify.
let inotifyOnlyConfig = serverConfig + "check-interval = 1h\n"

/// Resets tcp_keepalive_time behind the daemon's back until it declares the key contested:
/// five writes, each awaited until corrected, then a sixth. Returns the `contested` entry.
func provokeContest(_ daemon: DaemonUnderTest) throws -> (entry: [String: String], index: Int) {
    var from = 0
    for round in 1...5 {
        try daemon.write("tcp_keepalive_time", 7200)
        let corrected = try #require(daemon.waitForEvent("corrected", from: from), "round \(round):\n\(daemon.journalText)")
        from = corrected.index + 1
    }
    try daemon.write("tcp_keepalive_time", 7200)
    return try #require(daemon.waitForEvent("contested", from: from), "\(daemon.journalText)")
}

@Suite("Drift watch", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil, Comment(rawValue: DaemonUnderTest.unavailableReason ?? "")))
struct DriftTests {
    @Test func sysctlWIsDetectedAndCorrectedWithStructuredEntries() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig)
        let result = try daemon.runInNamespace(["sysctl", "-q", "-w", "net.ipv4.tcp_keepalive_time=7200"])
        #expect(result.status == 0, "\(result)")
        let drift = try #require(daemon.waitForEvent("drift"), "\(daemon.journalText)")
        #expect(drift.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time")
        #expect(drift.entry["EXPECTED"] == "1800")
        #expect(drift.entry["ACTUAL"] == "7200")
        #expect(drift.entry["PROFILE"] == "server")
        #expect(drift.entry["PRIORITY"] == "4")
        #expect(drift.entry["MESSAGE_ID"] == "c6f71427a99c4d76b034c25d742a2b76")
        #expect(drift.entry["CODE_FILE"]?.hasSuffix(".swift") == true)
        #expect(drift.entry["CODE_LINE"].flatMap(Int.init) != nil)
        #expect(drift.entry["CODE_FUNC"]?.isEmpty == false)
        #expect(drift.entry["SYSLOG_IDENTIFIER"] == "keepalived-tune")
        let corrected = try #require(daemon.waitForEvent("corrected", from: drift.index + 1))
        #expect(corrected.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time")
        #expect(corrected.entry["EXPECTED"] == "1800")
        #expect(corrected.entry["ACTUAL"] == "7200")
        #expect(corrected.entry["PRIORITY"] == "6")
        #expect(try daemon.values() == "1800/30/3")
    }

    /// Without a journal (containers, supervisors), the fields still reach the reader.
    @Test func aDriftUnderConsoleLoggingPrintsTheEventsFields() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig, sink: .console)
        try daemon.write("tcp_keepalive_time", 99)
        let line = try #require(daemon.console.wait { $0["LINE"]?.contains("[EVENT=drift") == true }?.message["LINE"],
                                "\(daemon.console.all)")
        #expect(line.hasPrefix("keepalived-tune: warning: drift: net.ipv4.tcp_keepalive_time is 99"))
        #expect(line.hasSuffix("[EVENT=drift ACTUAL=99 EXPECTED=1800 PROFILE=server SYSCTL=net.ipv4.tcp_keepalive_time]"))
        #expect(daemon.console.wait { $0["LINE"]?.contains("[EVENT=corrected") == true } != nil)
    }

    @Test func everyFieldNameIsValidForJournald() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.write("tcp_keepalive_probes", 9)
        _ = try #require(daemon.waitForEvent("corrected"))
        let names = Set(daemon.journal.all.flatMap(\.keys))
        #expect(!names.isEmpty)
        for name in names {
            #expect(name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } && !name.hasPrefix("_") && name.first?.isNumber == false, "\(name)")
        }
    }

    /// A write through a second procfs mount of the same network namespace raises no
    /// inotify event for the daemon's watch: only the periodic re-read can find it.
    @Test func aWriteInotifyCannotSeeIsFoundByTheReRead() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig + "check-interval = 1s\n")
        let mountPoint = try daemon.directory.makeDirectory("proc2")
        let result = try daemon.runInNamespace(["unshare", "-m", "sh", "-c",
            "mount -t proc proc \"$0\" && echo 7200 > \"$0/sys/net/ipv4/tcp_keepalive_time\"", mountPoint])
        #expect(result.status == 0, "\(result)")
        let corrected = try #require(daemon.waitForEvent("corrected"), "\(daemon.journalText)")
        #expect(corrected.entry["ACTUAL"] == "7200")
        #expect(try daemon.values() == "1800/30/3")
    }

    @Test func warnModeReportsAndKeepsStatusShowingTheDrift() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig + "on-drift = warn\n")
        try daemon.write("tcp_keepalive_intvl", 75)
        let drift = try #require(daemon.waitForEvent("drift"))
        #expect(drift.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_intvl")
        let status = try #require(daemon.waitForNotify { $0["STATUS"]?.hasPrefix("DRIFT") == true })
        #expect(status.message["STATUS"] == "DRIFT from profile server: net.ipv4.tcp_keepalive_intvl is 75, wants 30 (on-drift = warn)")
        // The drift check that sent the status is done: had it corrected, it would have by now.
        #expect(try daemon.values() == "1800/75/3")
        #expect(!daemon.journal.all.contains { $0["EVENT"] == "corrected" })
        try daemon.write("tcp_keepalive_intvl", 30)
        #expect(daemon.waitForNotify(from: status.index + 1) { $0["STATUS"] == serverStatus } != nil)
    }

    @Test func aContestedValueBacksOffWithOneAlert() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig)
        let contested = try provokeContest(daemon)
        #expect(contested.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time")
        #expect(contested.entry["RESETS"] == "6")
        #expect(contested.entry["PRIORITY"] == "3")
        #expect(daemon.waitForNotify { $0["STATUS"]?.contains("net.ipv4.tcp_keepalive_time keep being reset") == true } != nil)
        #expect(try daemon.values() == "7200/30/3")
        // More fighting during the back-off gets no corrections and no more alerts. Its
        // write no longer wakes the daemon; a drift of another key does, and that check
        // reads all three values.
        try daemon.write("tcp_keepalive_time", 7000)
        try daemon.write("tcp_keepalive_probes", 9)
        _ = try #require(daemon.waitForEvent("corrected", from: contested.index + 1, where: { $0["SYSCTL"] == "net.ipv4.tcp_keepalive_probes" }),
                         "\(daemon.journalText)")
        #expect(daemon.journal.all.filter { $0["EVENT"] == "contested" }.count == 1)
        #expect(!daemon.journal.all[contested.index...].contains { $0["EVENT"] == "corrected" && $0["SYSCTL"] == "net.ipv4.tcp_keepalive_time" })
        #expect(try daemon.values() == "7000/30/3")
    }
}

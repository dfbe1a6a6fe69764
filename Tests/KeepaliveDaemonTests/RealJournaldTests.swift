import Foundation
import KeepaliveTestKit
import Testing

/// The daemon's entries read back through a real systemd-journald and `journalctl -o json`.
@Suite("Through a real journald", .serialized,
       .enabled(if: DaemonUnderTest.journaldUnavailableReason == nil,
                Comment(rawValue: DaemonUnderTest.journaldUnavailableReason ?? "")))
struct RealJournaldTests {
    @Test func driftAndCorrectionReachJournaldWithEveryField() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig, sink: .journald)
        let journal = try JournalFollower(directory: daemon.journalDirectory)
        let applied = try #require(journal.entries.wait { $0["EVENT"] == "applied" })
        #expect(applied.message["PROFILE"] == "server")
        #expect(applied.message["_PID"] == String(daemon.pid))

        #expect(try daemon.runInNamespace(["sysctl", "-q", "-w", "net.ipv4.tcp_keepalive_time=7200"]).status == 0)
        let drift = try #require(journal.entries.wait { $0["EVENT"] == "drift" })
        for (field, value) in ["SYSCTL": "net.ipv4.tcp_keepalive_time", "EXPECTED": "1800", "ACTUAL": "7200",
                               "PROFILE": "server", "PRIORITY": "4", "MESSAGE_ID": "c6f71427a99c4d76b034c25d742a2b76",
                               "SYSLOG_IDENTIFIER": "keepalived-tune", "_TRANSPORT": "journal"] {
            #expect(drift.message[field] == value, "\(field)")
        }
        #expect(drift.message["CODE_FILE"] == "KeepaliveDaemon/Enforcer.swift")
        #expect(drift.message["CODE_FUNC"]?.hasPrefix("check") == true)
        let corrected = try #require(journal.entries.wait(from: drift.index) { $0["EVENT"] == "corrected" })
        #expect(corrected.message["MESSAGE_ID"] == "7e7d35e2dfd14fb8aea57362a76a01a9")
        #expect(try daemon.values() == "1800/30/3")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(journal.entries.wait { $0["EVENT"] == "stopping" } != nil)
    }
}

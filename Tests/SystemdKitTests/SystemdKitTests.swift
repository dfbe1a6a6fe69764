import Foundation
import KeepaliveTestKit
import Logging
@testable import SystemdKit
import Testing

@Suite("Journal field names")
struct JournalFieldNameTests {
    @Test("normalised to [A-Z0-9_], no leading _ or digit", arguments: [
        ("CODE_FILE", "CODE_FILE"), ("code-file", "CODE_FILE"), ("lower", "LOWER"), ("MY-FIELD", "MY_FIELD"),
        ("1X", "X1X"), ("_PID", "PID"), ("a.b c", "A_B_C"), ("", "FIELD"), ("ß", "FIELD"), ("aß", "A__"),
    ])
    func normalised(name: String, expected: String) {
        #expect(Journal.fieldName(name) == expected)
    }

    @Test func prioritiesFollowSyslog() {
        #expect(JournalLogHandler.priority(.error) == 3)
        #expect(JournalLogHandler.priority(.warning) == 4)
        #expect(JournalLogHandler.priority(.notice) == 5)
        #expect(JournalLogHandler.priority(.info) == 6)
        #expect(JournalLogHandler.priority(.debug) == 7)
    }
}

/// sd_notify through a real datagram socket named by NOTIFY_SOCKET in this process.
@Suite("sd_notify", .serialized)
struct NotifierTests {
    @Test func sendsReadyStatusReloadingAndWatchdog() throws {
        let directory = try TemporaryDirectory()
        let receiver = try DatagramReceiver(path: directory.url("notify"))
        setenv("NOTIFY_SOCKET", receiver.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let notifier = Notifier()
        #expect(notifier.ready(status: "two\nlines") == 1)
        #expect(receiver.wait { $0["READY"] == "1" }?.message["STATUS"] == "two lines")
        #expect(notifier.reloading(monotonicMicroseconds: 123_456_789) == 1, "sent")
        let reloading = try #require(receiver.wait { $0["RELOADING"] == "1" })
        #expect(reloading.message["MONOTONIC_USEC"] == "123456789")
        #expect(notifier.watchdog() == 1)
        #expect(receiver.wait { $0["WATCHDOG"] == "1" } != nil)
    }

    @Test func isANoOpOutsideSystemd() {
        unsetenv("NOTIFY_SOCKET")
        #expect(Notifier().ready(status: "x") == 0)
    }

    @Test func watchdogIntervalComesFromTheEnvironment() {
        setenv("WATCHDOG_USEC", "30000000", 1)
        defer { unsetenv("WATCHDOG_USEC") }
        #expect(Notifier().watchdogInterval() == 30_000_000)
        setenv("WATCHDOG_PID", "1", 1)   // for another process: not ours to honour
        defer { unsetenv("WATCHDOG_PID") }
        #expect(Notifier().watchdogInterval() == nil)
    }
}

@Suite("Console log handler")
struct ConsoleLogHandlerTests {
    @Test func writesOneReadableLinePerEntry() {
        let lines = LockedLines()
        var logger = Logger(label: "t") { _ in ConsoleLogHandler { lines.append($0) } }
        logger.logLevel = .info
        logger.warning("drift: x", metadata: ["SYSCTL": "net.ipv4.tcp_keepalive_time", "EVENT": "drift",
                                              "ACTUAL": "99", "MESSAGE_ID": "c6f7"])
        logger.info("plain")
        logger.debug("hidden")
        #expect(lines.all == ["keepalived-tune: warning: drift: x [EVENT=drift ACTUAL=99 SYSCTL=net.ipv4.tcp_keepalive_time]",
                              "keepalived-tune: info: plain"])
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

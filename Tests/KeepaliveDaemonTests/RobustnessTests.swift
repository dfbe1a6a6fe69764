import Foundation
import KeepaliveTestKit
import Testing

/// Writes `text` to `path` in place, in two write(2) calls with a pause between them, so
/// that a reader can catch the file truncated or half-written.
func writeInTwoHalves(_ path: String, _ text: String) {
    let bytes = Array(text.utf8)
    let cut = bytes.count / 2
    let fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    _ = bytes[..<cut].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    usleep(200)
    _ = bytes[cut...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

@Suite("Storms, files changing underneath, a value fought over", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil, Comment(rawValue: DaemonUnderTest.unavailableReason ?? "")))
struct RobustnessTests {
    @Test func aSighupStormWhileTheConfigIsRewrittenEndsOnTheLastCompleteConfig() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        // Warm up once (first reload touches code and allocates for good), then take the baseline.
        daemon.signal(SIGHUP)
        _ = try #require(daemon.waitForNotify { $0["RELOADING"] == "1" })
        let settled = daemon.notify.all.count
        _ = try #require(daemon.waitForNotify(from: settled) { $0["READY"] == "1" } ?? daemon.waitForNotify { $0["READY"] == "1" })
        let baseline = try daemon.footprint()

        let configPath = daemon.configPath
        let signalsDone = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let stop = StopFlag()
        Thread {
            var round = 0
            while !stop.isRaised {
                writeInTwoHalves(configPath, "[daemon]\nprofile = \(round % 2 == 0 ? "web" : "server")\n")
                round += 1
            }
            writeInTwoHalves(configPath, "[daemon]\nprofile = nat\n")
            writerDone.signal()
        }.start()
        let pid = daemon.pid
        Thread {
            for _ in 0..<1000 {
                kill(pid, SIGHUP)
                usleep(900)
            }
            signalsDone.signal()
        }.start()
        signalsDone.wait()
        stop.raise()
        writerDone.wait()

        let final = try #require(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }), "\(daemon.journalText.suffix(2000))")
        _ = final
        #expect(daemon.isRunning)
        #expect(try daemon.values() == "1800/75/9")
        // A truncated or half-written file was never applied: every applied profile is one
        // of those written whole, never the default an empty file would mean.
        let applied = Set(daemon.journal.all.filter { $0["EVENT"] == "applied" }.compactMap { $0["PROFILE"] })
        #expect(applied.isSubset(of: ["server", "web", "nat"]), "\(applied)\n\(daemon.journal.all.filter { $0["EVENT"] == "applied" || $0["EVENT"] == "reload-rejected" }.map { "\($0["EVENT"]!) \($0["PROFILE"] ?? "") \($0["MESSAGE"] ?? "")" }.prefix(12).joined(separator: "\n"))")
        // The last word is READY=1 with the final profile.
        #expect(daemon.waitForNotify { $0["READY"] == "1" && $0["STATUS"]?.hasPrefix("profile nat in force") == true } != nil)
        let after = try daemon.footprint()
        #expect(after.descriptors <= baseline.descriptors, "descriptors \(baseline.descriptors) -> \(after.descriptors): a leak")
        if !ChildProcess.underSanitizer {   // ASan's shadow and quarantine make RSS meaningless
            #expect(after.rssKB <= baseline.rssKB + 1024, "RSS \(baseline.rssKB) kB -> \(after.rssKB) kB")
        }
    }

    @Test func aDeletedProfileIsReportedAndTheLastGoodOneKept() throws {
        let daemon = try DaemonUnderTest.started(config: "[daemon]\nprofile = custom\n",
                                                 profiles: ["custom": "[profile]\ninclude = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 4\n"])
        #expect(try daemon.values() == "1800/30/4")
        try FileManager.default.removeItem(atPath: daemon.directory.url("profiles/custom.conf"))
        let rejected = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["DIAGNOSTIC"] == "unknown-profile")
        #expect(rejected.entry["MESSAGE"]?.contains("still enforcing profile custom") == true)
        #expect(try daemon.values() == "1800/30/4")
    }

    @Test func aProfileReplacedByASymlinkOutOfThePathIsRefused() throws {
        let daemon = try DaemonUnderTest.started(config: "[daemon]\nprofile = custom\n",
                                                 profiles: ["custom": "[profile]\ninclude = server\n"])
        let outside = try daemon.directory.write("elsewhere/evil.conf", "[profile]\ninclude = default\n")
        let link = daemon.directory.url("profiles/.custom.tmp")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: outside)
        #expect(rename(link, daemon.directory.url("profiles/custom.conf")) == 0)
        let rejected = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["DIAGNOSTIC"] == "unsafe-symlink")
        #expect(try daemon.values() == "1800/30/3")
    }

    @Test func theConfigDirectoryRemovedAndRecreated() throws {
        let daemon = try DaemonUnderTest.started(config: "[daemon]\nprofile = server\n", configDirectory: "etc")
        try FileManager.default.removeItem(atPath: daemon.configDirectory)
        let rejected = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["DIAGNOSTIC"] == "config-removed")
        #expect(rejected.entry["CONFIG_FILE"] == daemon.configPath)
        #expect(try daemon.values() == "1800/30/3")
        try daemon.editConfig("[daemon]\nprofile = web\n")   // re-creates the directory too
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "web" }) != nil, "\(daemon.journalText)")
        #expect(try daemon.values() == "1800/15/3")
    }

    /// Something rewrites a contested value 100 times a second, alternating two values:
    /// during the back-off the daemon neither corrects it nor wakes up for it (the key's
    /// inotify watch is paused), so the fight costs no wake-ups. Counted, not timed: the
    /// CPU figure is in bench/run.
    @Test func aContestedValueCostsNoWakeUpsDuringItsBackOff() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig)
        let contested = try provokeContest(daemon)
        #expect(contested.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time")
        #expect(daemon.waitUntilWaiting(), "the daemon did not go back to sleep")
        let before = try daemon.wakeUps()
        try daemon.namespace.run {
            let fd = open("/proc/sys/net/ipv4/tcp_keepalive_time", O_WRONLY | O_CLOEXEC)
            defer { close(fd) }
            for write in 0..<300 {
                _ = (write % 2 == 0 ? "7200\n" : "7201\n").withCString { pwrite(fd, $0, 5, 0) }   // as echo > would
                usleep(10_000)   // the fight's pace (100 writes/s), not a synchronisation
            }
        }
        let wakeUps = try daemon.wakeUps() - before
        #expect(wakeUps <= 5, "the daemon woke up \(wakeUps) times during 300 writes to a contested key")
        #expect(daemon.isRunning)
        #expect(daemon.journal.all.filter { $0["EVENT"] == "contested" }.count == 1)
        #expect(!daemon.journal.all[contested.index...].contains { $0["EVENT"] == "corrected" })
        let time = try daemon.values().split(separator: "/").first
        #expect(time == "7200" || time == "7201", "the daemon put the contested value back")
    }
}

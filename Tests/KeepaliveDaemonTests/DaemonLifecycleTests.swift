import Foundation
import KeepaliveTestKit
import Testing

let serverConfig = "[daemon]\nprofile = server\n"
let serverStatus = "profile server in force: 1800/30/3, dead peers found within 31min 30s"

@Suite("The daemon as a real child process", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil, Comment(rawValue: DaemonUnderTest.unavailableReason ?? "")))
struct DaemonLifecycleTests {
    @Test func readyComesOnlyOnceTheValuesAreInForce() throws {
        let daemon = try DaemonUnderTest(config: serverConfig)
        #expect(try daemon.values() == "7200/75/9")
        let ready = try daemon.startAwaitingReady()
        #expect(try daemon.values() == "1800/30/3")
        #expect(ready["STATUS"] == serverStatus)
        let applied = try #require(daemon.waitForEvent("applied"))
        #expect(applied.entry["PROFILE"] == "server")
        #expect(applied.entry["EXPECTED"] == "1800/30/3")
        #expect(daemon.waitForEvent("started") != nil)
    }

    @Test func sighupSendsReloadingWithMonotonicUsecThenReady() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        let before = MonotonicMicroseconds.now()
        daemon.signal(SIGHUP)
        let reloading = try #require(daemon.waitForNotify { $0["RELOADING"] == "1" })
        let stamp = try #require(reloading.message["MONOTONIC_USEC"].flatMap(UInt64.init))
        #expect(stamp >= before && stamp <= MonotonicMicroseconds.now())
        let ready = try #require(daemon.waitForNotify(from: reloading.index + 1) { $0["READY"] == "1" })
        #expect(ready.message["STATUS"] == serverStatus)
    }

    @Test func aBadReloadKeepsTheLastGoodProfileAndStillAnswersReady() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.editConfig("[daemon]\nprofile = server\ncheck-interval = soon\n")
        daemon.signal(SIGHUP)
        let rejected = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["CONFIG_FILE"] == daemon.configPath)
        #expect(rejected.entry["CONFIG_LINE"] == "3")
        #expect(rejected.entry["PRIORITY"] == "4")
        let reloading = try #require(daemon.waitForNotify { $0["RELOADING"] == "1" })
        let ready = try #require(daemon.waitForNotify(from: reloading.index + 1) { $0["READY"] == "1" })
        #expect(ready.message["STATUS"]?.hasPrefix("reload rejected: \(daemon.configPath):3: error: check-interval") == true)
        #expect(ready.message["STATUS"]?.hasSuffix("(still enforcing server)") == true)
        #expect(try daemon.values() == "1800/30/3")
        #expect(daemon.journal.all.filter { $0["EVENT"] == "applied" }.count == 1, "only the start applied anything")
    }

    @Test func editingTheConfigSwitchesProfileWithoutASignal() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.editConfig("[daemon]\nprofile = web\n")
        let applied = try #require(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "web" }), "\(daemon.journalText)")
        #expect(applied.entry["EXPECTED"] == "1800/15/3")
        #expect(try daemon.values() == "1800/15/3")
        let ready = try #require(daemon.waitForNotify { $0["STATUS"]?.hasPrefix("profile web in force") == true })
        #expect(ready.message["READY"] == "1")
    }

    @Test func anEditorSaveByRenameIsPickedUp() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.directory.write(".keepalived-tune.conf.swp", "[daemon]\nprofile = nat\n")
        #expect(rename(daemon.directory.url(".keepalived-tune.conf.swp"), daemon.configPath) == 0)
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }) != nil, "\(daemon.journalText)")
        #expect(try daemon.values() == "1800/75/9")
    }

    @Test func aHalfWrittenConfigIsRejectedAndTheCompleteOneApplied() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.editConfig("[daemon]\nprofile = we")
        let rejected = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["CONFIG_LINE"] == "2")
        #expect(try daemon.values() == "1800/30/3")
        try daemon.editConfig("[daemon]\nprofile = web\n")
        #expect(daemon.waitForEvent("applied", from: rejected.index, where: { $0["PROFILE"] == "web" }) != nil)
        #expect(try daemon.values() == "1800/15/3")
    }

    @Test func editingAProfileInAProfileDirReloads() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.directory.write("profiles/server.conf", "[profile]\ndescription = ours\ninclude = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 4\n")
        let applied = try #require(daemon.waitForEvent("applied", where: { $0["EXPECTED"] == "1800/30/4" }), "\(daemon.journalText)")
        #expect(applied.entry["PROFILE"] == "server")
        #expect(try daemon.values() == "1800/30/4")
    }

    @Test func aDropInCreatedLaterIsPickedUp() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        try daemon.directory.write("keepalived-tune.conf.d/50-local.conf", "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 6\n")
        #expect(daemon.waitForEvent("applied", where: { $0["EXPECTED"] == "1800/30/6" }) != nil, "\(daemon.journalText)")
        #expect(try daemon.values() == "1800/30/6")
    }

    @Test func sigtermSendsStoppingAndExitsZeroLeavingTheProfile() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForNotify { $0["STOPPING"] == "1" } != nil)
        #expect(daemon.waitForExit() == 0)
        #expect(daemon.waitForEvent("stopping") != nil)
        #expect(try daemon.values() == "1800/30/3")
    }

    @Test func restoreOnStopPutsBackTheValuesFoundAtStart() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig + "restore-on-stop = yes\n")
        #expect(try daemon.values() == "1800/30/3")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try daemon.values() == "7200/75/9")
        #expect(daemon.waitForEvent("restored") != nil)
    }

    @Test func anInvalidConfigAtStartExits2WithTheReasonAndWritesNothing() throws {
        let daemon = try DaemonUnderTest(config: "[daemon]\nprofile = server\n\n[sysctl]\nnet.ipv4.tcp_keepalive_intvall = 5\n")
        try daemon.start()
        #expect(daemon.waitForExit() == 2)
        let rejected = try #require(daemon.waitForEvent("config-rejected"))
        #expect(rejected.entry["CONFIG_FILE"] == daemon.configPath)
        #expect(rejected.entry["CONFIG_LINE"] == "5")
        #expect(rejected.entry["MESSAGE"]?.contains("did you mean 'net.ipv4.tcp_keepalive_intvl'?") == true)
        #expect(!daemon.notify.all.contains { $0["READY"] == "1" })
        #expect(try daemon.values() == "7200/75/9")
    }

    @Test func runsOnBuiltinDefaultsWithNoConfigFile() throws {
        let daemon = try DaemonUnderTest.started(config: nil)
        #expect(try daemon.values() == "7200/75/9")
        #expect(daemon.notify.all.contains { $0["STATUS"]?.hasPrefix("profile default in force: 7200/75/9") == true })
    }

    /// Signals sent while the daemon is stopped are pending at once when it resumes:
    /// standard signals do not queue, so 51 SIGHUPs and a config edit make exactly one reload.
    @Test func aBurstOfSighupsCollapses() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        #expect(daemon.waitUntilWaiting())
        daemon.signal(SIGSTOP)
        #expect(daemon.waitUntilStopped())
        for _ in 0..<50 { daemon.signal(SIGHUP) }
        try daemon.editConfig("[daemon]\nprofile = nat\n")
        daemon.signal(SIGHUP)
        daemon.signal(SIGCONT)
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }) != nil)
        _ = try #require(daemon.waitForNotify { $0["READY"] == "1" && $0["STATUS"]?.hasPrefix("profile nat in force") == true })
        let reloads = daemon.notify.all.filter { $0["RELOADING"] == "1" }.count
        #expect(reloads == 1, "\(reloads) reloads for 51 signals and one edit")
        #expect(try daemon.values() == "1800/75/9")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    @Test func watchdogPingsAtHalfTheInterval() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig, environment: ["WATCHDOG_USEC": "400000"])
        let first = try #require(daemon.waitForNotify { $0["WATCHDOG"] == "1" })
        #expect(daemon.waitForNotify(from: first.index + 1) { $0["WATCHDOG"] == "1" } != nil)
    }

    @Test func sysctlDConflictsAreReportedWithFileAndLine() throws {
        let daemon = try DaemonUnderTest(config: serverConfig)
        let file = try daemon.directory.write("sysctl-root/etc/sysctl.d/60-tuning.conf",
                                              "# ours\nnet.ipv4.tcp_keepalive_time = 600\nnet.ipv4.tcp_keepalive_probes = 3\n")
        try daemon.start()
        let conflict = try #require(daemon.waitForEvent("sysctl-conflict"))
        #expect(conflict.entry["CONFIG_FILE"] == file)
        #expect(conflict.entry["CONFIG_LINE"] == "2")
        #expect(conflict.entry["SYSCTL"] == "net.ipv4.tcp_keepalive_time")
        #expect(conflict.entry["ACTUAL"] == "600")
        #expect(conflict.entry["EXPECTED"] == "1800")
        #expect(daemon.journal.all.filter { $0["EVENT"] == "sysctl-conflict" }.count == 1)
    }
}

/// CLOCK_MONOTONIC as the daemon reads it.
enum MonotonicMicroseconds {
    static func now() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}

import Foundation
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveTestKit
import Testing

/// The failures found by probing the daemon on a hostile or unlucky host (issue 19), each
/// made real: a child process in a private network namespace, and events and counts
/// awaited, never timed.
@Suite("A hostile or unlucky host", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil, Comment(rawValue: DaemonUnderTest.unavailableReason ?? "")))
struct HostileHostTests {
    /// #2: while the daemon is stopped, more than 16,384 sysctl writes overflow its inotify
    /// queue, and the config edit made next is lost with the other events. On resuming,
    /// the overflow is reported, the config is read again and every value re-checked.
    @Test func anInotifyQueueOverflowIsReportedAndTheConfigReadAgain() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig)
        #expect(daemon.waitUntilWaiting())
        daemon.signal(SIGSTOP)
        #expect(daemon.waitUntilStopped())
        try daemon.namespace.run {
            // Two files in turn: identical consecutive events would be merged into one.
            let time = open("/proc/sys/net/ipv4/tcp_keepalive_time", O_WRONLY | O_CLOEXEC)
            let intvl = open("/proc/sys/net/ipv4/tcp_keepalive_intvl", O_WRONLY | O_CLOEXEC)
            defer { close(time); close(intvl) }
            for _ in 0..<8_500 {
                _ = "1800\n".withCString { pwrite(time, $0, 5, 0) }
                _ = "30\n".withCString { pwrite(intvl, $0, 3, 0) }
            }
        }
        try daemon.editConfig(inotifyOnlyConfig.replacingOccurrences(of: "server", with: "nat"))
        daemon.signal(SIGCONT)
        let lost = try #require(daemon.waitForEvent("events-lost"), "\(daemon.journalText)")
        #expect(lost.entry["PRIORITY"] == "4")
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }) != nil, "\(daemon.journalText)")
        #expect(try daemon.values() == "1800/75/9")
    }

    /// #6: a file in a profile directory rewritten in place every few milliseconds, without
    /// end: a reload still goes ahead within the write grace period (the rewritten file is
    /// valid, so it is applied; an invalid one would be rejected as usual).
    @Test func endlessRewritesOfAProfileCannotStarveAReload() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig)
        let profile = daemon.directory.url("profiles/busy.conf")
        let stop = StopFlag()
        let writerDone = DispatchSemaphore(value: 0)
        Thread {
            while !stop.isRaised {
                writeInTwoHalves(profile, "[profile]\ndescription = rewritten all the time\ninclude = default\n")
                usleep(2_000)   // the writer's pace, not a synchronisation
            }
            writerDone.signal()
        }.start()
        defer { stop.raise(); writerDone.wait() }
        try daemon.directory.write("keepalived-tune.conf.new", "[daemon]\nprofile = nat\n")
        #expect(rename(daemon.directory.url("keepalived-tune.conf.new"), daemon.configPath) == 0)
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }) != nil, "\(daemon.journalText.suffix(2000))")
        #expect(try daemon.values() == "1800/75/9")
    }

    /// #10: a system error while reading the config at start (here EMFILE, from a tiny
    /// descriptor limit) is not a config error: exit 3, which systemd restarts, rather than
    /// 2, which `RestartPreventExitStatus=2` would leave failed with the config blamed.
    @Test func aSystemErrorReadingTheConfigAtStartExits3() throws {
        let daemon = try DaemonUnderTest(config: serverConfig, sink: .console)
        // Room for 0-2, the notify socket, the signalfd and the inotify descriptor: the
        // config is the first file it cannot open.
        try daemon.start(environment: ["KT_NOFILE": "6"])
        #expect(daemon.waitForExit() == 3)
        let line = try #require(daemon.console.wait { $0["LINE"]?.contains("EVENT=config-rejected") == true }?.message["LINE"],
                                "\(daemon.console.all)")
        #expect(line.contains("Too many open files (EMFILE)"))
        #expect(!line.contains("fix the config"), "\(line)")
        #expect(try daemon.values() == "7200/75/9")
    }

    /// #10: an emptied drop-in is held back like an emptied main config (a rewrite in
    /// progress), instead of being applied as "no overrides".
    @Test func anEmptiedDropInIsHeldBackLikeAnEmptiedConfig() throws {
        let daemon = try DaemonUnderTest(config: serverConfig)
        let dropIn = try daemon.directory.write("keepalived-tune.conf.d/50-local.conf", "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 6\n")
        try daemon.startAwaitingReady()
        #expect(try daemon.values() == "1800/30/6")
        try daemon.directory.write("keepalived-tune.conf.d/50-local.conf", "")
        let rejected = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["DIAGNOSTIC"] == "config-empty")
        #expect(rejected.entry["CONFIG_FILE"] == dropIn)
        #expect(try daemon.values() == "1800/30/6")
    }

    /// #10: `apply NAME` while the daemon enforces another profile says that the daemon
    /// will put its profile back and how to switch for good; and an admin's repeated applies
    /// are corrected but never make the key contested (seven rounds, more than the five
    /// corrections a minute that make a contest).
    @Test func applyWhileTheDaemonEnforcesAnotherProfileSaysSoAndIsNeverAContest() throws {
        let daemon = try DaemonUnderTest(config: inotifyOnlyConfig)
        let runtime = daemon.directory.url("run")
        try daemon.startAwaitingReady(["--runtime-dir", runtime])
        var from = 0
        for round in 1...7 {
            let apply = try daemon.runInNamespace([ChildProcess.keepalivedTune, "apply", "default", "--runtime-dir", runtime,
                                                   "--config", daemon.configPath, "--profile-dir", daemon.profileDirectory])
            #expect(apply.status == 0, "\(apply)")
            #expect(apply.stderr.contains("the running keepalived-tune daemon (pid \(daemon.pid)) enforces profile server (1800/30/3) and will put it back"), "\(apply)")
            #expect(apply.stderr.contains("set 'profile = default' in \(daemon.configPath)"), "\(apply)")
            for _ in 1...3 {   // one correction per key
                from = try #require(daemon.waitForEvent("corrected", from: from), "round \(round):\n\(daemon.journalText)").index + 1
            }
        }
        #expect(!daemon.journal.all.contains { $0["EVENT"] == "contested" }, "\(daemon.journalText)")
        #expect(try daemon.values() == "1800/30/3")
    }

    /// #3: a config published the Kubernetes ConfigMap way, `kt.conf -> ..data/kt.conf`,
    /// where `..data` is a symlink swapped by rename: the swap reloads.
    @Test func aConfigMapStyleSymlinkSwapReloads() throws {
        let daemon = try DaemonUnderTest(config: nil, configDirectory: "cm")
        let directory = daemon.configDirectory
        try daemon.directory.write("cm/..2026_12_02_a/keepalived-tune.conf", serverConfig)
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/..data", withDestinationPath: "..2026_12_02_a")
        try FileManager.default.createSymbolicLink(atPath: daemon.configPath, withDestinationPath: "..data/keepalived-tune.conf")
        try daemon.startAwaitingReady()
        #expect(try daemon.values() == "1800/30/3")
        // What kubelet does: a new timestamped directory, a new link, renamed over ..data.
        try daemon.directory.write("cm/..2026_12_02_b/keepalived-tune.conf", "[daemon]\nprofile = nat\n")
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/..data_tmp", withDestinationPath: "..2026_12_02_b")
        #expect(rename("\(directory)/..data_tmp", "\(directory)/..data") == 0)
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }) != nil, "\(daemon.journalText)")
        #expect(try daemon.values() == "1800/75/9")
        // And the new target is watched: a rewrite of it reloads too.
        try daemon.directory.write("cm/..2026_12_02_b/keepalived-tune.conf", "[daemon]\nprofile = web\n")
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "web" }) != nil, "\(daemon.journalText)")
    }

    /// #3: a config that is a symlink to a file elsewhere: rewriting the target reloads.
    @Test func rewritingTheTargetOfASymlinkedConfigReloads() throws {
        let daemon = try DaemonUnderTest(config: nil)
        let real = try daemon.directory.write("elsewhere/real.conf", serverConfig)
        try FileManager.default.createSymbolicLink(atPath: daemon.configPath, withDestinationPath: real)
        try daemon.startAwaitingReady()
        try daemon.directory.write("elsewhere/real.conf", "[daemon]\nprofile = nat\n")
        #expect(daemon.waitForEvent("applied", where: { $0["PROFILE"] == "nat" }) != nil, "\(daemon.journalText)")
    }

    /// #3: a drop-in directory that is a symlink, retargeted: the watch moves to the new
    /// directory (the old one is no longer watched).
    @Test func aRetargetedDropInDirectoryLinkIsWatchedWhereItPointsNow() throws {
        let daemon = try DaemonUnderTest(config: serverConfig)
        try daemon.directory.write("drop-a/10.conf", "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 4\n")
        try daemon.directory.write("drop-b/10.conf", "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 5\n")
        try FileManager.default.createSymbolicLink(atPath: daemon.configPath + ".d", withDestinationPath: daemon.directory.url("drop-a"))
        try daemon.startAwaitingReady()
        #expect(try daemon.values() == "1800/30/4")
        try FileManager.default.createSymbolicLink(atPath: daemon.configPath + ".d.new", withDestinationPath: daemon.directory.url("drop-b"))
        #expect(rename(daemon.configPath + ".d.new", daemon.configPath + ".d") == 0)
        #expect(daemon.waitForEvent("applied", where: { $0["EXPECTED"] == "1800/30/5" }) != nil, "\(daemon.journalText)")
        try daemon.directory.write("drop-b/10.conf", "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 6\n")
        #expect(daemon.waitForEvent("applied", where: { $0["EXPECTED"] == "1800/30/6" }) != nil, "\(daemon.journalText)")
    }

    /// #4: a supervisor that never reads its notify socket. Its queue holds 10 datagrams;
    /// a blocking sd_notify would then hang the loop for good. Fifteen reloads (30
    /// datagrams) later the daemon still reloads, corrects drift and stops on SIGTERM.
    @Test func aNotifySocketNobodyReadsDoesNotFreezeTheLoop() throws {
        let daemon = try DaemonUnderTest(config: inotifyOnlyConfig, notifyReader: false)
        try daemon.start()
        var from = try #require(daemon.waitForEvent("started"), "\(daemon.journalText)").index
        for round in 1...15 {
            daemon.signal(SIGHUP)
            from = try #require(daemon.waitForEvent("applied", from: from + 1), "reload \(round):\n\(daemon.journalText)").index
        }
        try daemon.write("tcp_keepalive_time", 7200)
        #expect(daemon.waitForEvent("corrected", from: from) != nil, "\(daemon.journalText)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// #5: stderr is a pipe whose reader is gone (`run 2>&1 | logger` after logger died).
    /// The drift line gets EPIPE instead of killing the daemon with SIGPIPE, and the drift
    /// still shows in the status.
    @Test func aClosedStderrDoesNotKillTheDaemon() throws {
        let daemon = try DaemonUnderTest.started(config: inotifyOnlyConfig + "on-drift = warn\n", sink: .consoleClosed)
        try daemon.write("tcp_keepalive_intvl", 75)
        #expect(daemon.waitForNotify { $0["STATUS"]?.hasPrefix("DRIFT") == true } != nil)
        #expect(daemon.isRunning)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// #7: `WATCHDOG_USEC=1` would mean a ping on every turn of the loop (thousands a
    /// second). The period is clamped to a floor, and the log says so once.
    @Test func aTinyWatchdogIntervalIsClampedAndSaidOnce() throws {
        let daemon = try DaemonUnderTest.started(config: serverConfig, environment: ["WATCHDOG_USEC": "1"])
        let clamped = try #require(daemon.waitForEvent("watchdog-clamped"), "\(daemon.journalText)")
        #expect(clamped.entry["MESSAGE"]?.contains("WATCHDOG_USEC=1") == true)
        let first = try #require(daemon.waitForNotify { $0["WATCHDOG"] == "1" })
        #expect(daemon.waitForNotify(from: first.index + 1) { $0["WATCHDOG"] == "1" } != nil, "it still pings")
        #expect(daemon.journal.all.filter { $0["EVENT"] == "watchdog-clamped" }.count == 1)
    }
}

@Suite("Watchdog (in-process)")
struct WatchdogTests {
    @Test func pingsAtHalfTheIntervalWhenDue() {
        let start = Instant(microseconds: 1_000_000)
        var watchdog = Watchdog(interval: 30_000_000, at: start)!
        #expect(watchdog.period == .seconds(15))
        #expect(watchdog.deadline == start + .seconds(15))
        var pings = 0
        #expect(!watchdog.tick(at: start + .seconds(7)) { pings += 1 })
        #expect(watchdog.tick(at: start + .seconds(8)) { pings += 1 }, "past a quarter: rides along")
        #expect(pings == 1)
        #expect(Watchdog(interval: nil, at: start) == nil)
    }

    @Test func aTinyIntervalIsClampedToTheFloor() {
        let watchdog = Watchdog(interval: 1, at: Instant(microseconds: 0))!
        #expect(watchdog.period == Watchdog.minimumPeriod)
        #expect(watchdog.clamped)
    }
}

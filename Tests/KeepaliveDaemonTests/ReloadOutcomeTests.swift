import Glibc
import InMemoryLogging
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Logging
import Testing

/// What a reload ends in, in-process: a ``Daemon`` started on a fake sysctl root, with the
/// parts its loop holds, its config edited and its reload stepped at the deadlines the
/// ``ReloadController`` gives. The journal is swift-log's InMemoryLogHandler; the counts are
/// the metrics' counters.
///
/// The decision (put in force, or keep the last good policy) is the daemon's, not the
/// controller's, and it takes the whole of `Daemon.Running`: ``StartedDaemon`` assembles one.
@Suite("Reload outcomes (in-process daemon)",
       .enabled(if: getenv("NOTIFY_SOCKET") == nil, "an in-process daemon would notify the test runner's service manager"))
struct ReloadOutcomeTests {
    /// A daemon started in-process on a fake root (1800/30/3 in force), with its journal.
    final class StartedDaemon {
        let directory: TemporaryDirectory
        let sysctl: FakeSysctlRoot
        let configPath: String
        let logs = InMemoryLogHandler()
        let daemon: Daemon
        let running: Daemon.Running
        /// Where the journal stood when the daemon was started.
        let startEntries: Int

        init(config: String = ReloadControllerTests.server) throws {
            directory = try TemporaryDirectory("reload-outcome")
            sysctl = try FakeSysctlRoot()
            configPath = try directory.write("keepalived-tune.conf", config)
            let setup = Setup(configPath: configPath, profileDirectories: [directory.url("profiles")], sysctlRoot: sysctl.path,
                              sysctlConfRoot: directory.path, runtimeDirectory: directory.url("run"))
            let handler = logs
            daemon = Daemon(setup: setup, logger: Logger(label: "test") { _ in handler })
            let inotify = try Inotify(syscalls: setup.syscalls)
            let reload = ReloadController(setup: setup, inotify: inotify)
            let tree = setup.sysctlTree()
            let watch = SysctlWatch(inotify: inotify, tree: tree) { _, _ in }
            guard case .success(let (enforcer, originals)) = daemon.start(tree: tree, watch: watch, reload: reload) else {
                throw Failure(description: "the daemon did not start: \(logs.entries.map(\.message))")
            }
            // The loop's signal source, on a descriptor that never becomes readable: a real
            // one would block SIGHUP, SIGTERM and SIGINT in the test's (shared) thread.
            var quiet = setup.syscalls
            quiet.signalFD.body = { Syscalls.live.open("/dev/null", O_RDONLY) }
            running = Daemon.Running(signals: try SignalSource(syscalls: quiet), inotify: inotify, enforcer: enforcer,
                                     reload: reload, originals: originals,
                                     auditor: ConnectionAuditor(log: daemon.log, setup: setup, metrics: daemon.metrics),
                                     fleet: Fleet(setup: setup, policy: enforcer.policy, log: daemon.log, inotify: inotify,
                                                  book: nil, discovery: NamespaceDiscovery(syscalls: setup.syscalls),
                                                  enter: { _ in [] }, at: MonotonicClock.now()),
                                     sockets: SocketHooks(log: daemon.log, syscalls: setup.syscalls, notices: BPFNotices()) { enforcer.policy },
                                     writes: SysctlWrites(log: daemon.log, syscalls: setup.syscalls, notices: BPFNotices(), policy: { enforcer.policy }, hint: {}))
            startEntries = logs.entries.count
        }

        struct Failure: Error, CustomStringConvertible { let description: String }

        /// Routes what inotify queued, as the loop does, then steps the reload at each
        /// deadline it gives until nothing is pending; how many steps read or applied.
        @discardableResult
        func settle(limit: Int = 10) -> Int {
            var now = MonotonicClock.now()
            daemon.route(running.inotify.drain(), to: running, at: now)
            var worked = 0
            for _ in 0..<limit {
                guard !running.reload.isIdle, let due = running.reload.deadline(at: now) else { return worked }
                now = max(now, due)
                if daemon.stepReload(running, at: now).contains(.ranCode) { worked += 1 }
            }
            Issue.record("the reload did not settle in \(limit) steps")
            return worked
        }

        /// Every entry since the start, each as its fields as text (`MESSAGE` too).
        var entries: [[String: String]] {
            logs.entries.dropFirst(startEntries).map { entry in
                entry.metadata.mapValues { "\($0)" }.merging(["MESSAGE": "\(entry.message)"]) { $1 }
            }
        }

        /// The `EVENT` of every entry since the start.
        var events: [String] { entries.compactMap { $0["EVENT"] } }

        /// Reloads counted by the metrics: (applied, rejected).
        var reloads: (applied: Int, rejected: Int) {
            let counters = daemon.counters.value
            return (counters.reloadsApplied, counters.reloadsRejected)
        }

        var profile: String { running.enforcer.policy.profile.name.rawValue }

        /// Writes `text` beside the config and renames it over the config.
        func renameIntoPlace(_ text: String) throws { try ReloadControllerTests.renameIntoPlace(text, in: directory) }
    }

    @Test func aRequestWithTheConfigUnchangedAppliesNothingNew() throws {
        let daemon = try StartedDaemon()
        #expect(daemon.logs.entries.compactMap { $0.metadata["EVENT"].map { "\($0)" } } == ["applied", "started"])
        daemon.running.reload.requested(at: MonotonicClock.now())
        #expect(daemon.settle() == 1)
        #expect(daemon.events == ["applied"])
        #expect(daemon.entries.first?["CHANGES"] == "0" && daemon.entries.first?["PROFILE"] == "server")
        #expect(daemon.reloads == (1, 0))
        #expect(daemon.running.reload.rejection == nil && daemon.daemon.configValid)
        #expect(try daemon.sysctl.compact() == "1800/30/3")
    }

    @Test func aRejectedConfigKeepsTheLastGoodPolicyAndSaysWhereAndWhy() throws {
        let daemon = try StartedDaemon()
        try daemon.renameIntoPlace("[daemon]\nprofile = no-such-profile\n")
        daemon.settle()
        #expect(daemon.events == ["reload-rejected"])
        let rejected = try #require(daemon.entries.first)
        #expect(rejected["CONFIG_FILE"] == daemon.configPath && rejected["CONFIG_LINE"] == "2")
        #expect(rejected["DIAGNOSTIC"] == "unknown-profile")
        #expect(rejected["MESSAGE"]?.hasSuffix("reload rejected; still enforcing profile server") == true)
        #expect(daemon.profile == "server")
        #expect(try daemon.sysctl.compact() == "1800/30/3")
        #expect(daemon.running.reload.rejection != nil && !daemon.daemon.configValid)
        #expect(daemon.reloads == (0, 1))

        // Fixed: the next reload puts it in force and clears the rejection.
        try daemon.renameIntoPlace(ReloadControllerTests.web)
        daemon.settle()
        #expect(daemon.events == ["reload-rejected", "applied"])
        #expect(daemon.entries.last?["PROFILE"] == "web" && daemon.entries.last?["EXPECTED"] == "1800/15/3")
        #expect(daemon.profile == "web")
        #expect(try daemon.sysctl.compact() == "1800/15/3")
        #expect(daemon.running.reload.rejection == nil && daemon.daemon.configValid)
        #expect(daemon.reloads == (1, 1))
    }

    /// A config that had content and reads empty is a rewrite in progress (`echo > FILE`
    /// truncates first); a config that vanished is not "the built-in defaults". Both keep
    /// the last good profile.
    @Test func anEmptiedOrRemovedConfigKeepsTheLastGoodProfile() throws {
        let daemon = try StartedDaemon()
        let fd = open(daemon.configPath, O_WRONLY | O_TRUNC | O_CLOEXEC)
        try #require(fd >= 0)
        close(fd)
        daemon.settle()
        #expect(daemon.events == ["reload-rejected"])
        #expect(daemon.entries.last?["DIAGNOSTIC"] == "config-empty")
        #expect(unlink(daemon.configPath) == 0)
        daemon.settle()
        #expect(daemon.events == ["reload-rejected", "reload-rejected"])
        #expect(daemon.entries.last?["DIAGNOSTIC"] == "config-removed")
        #expect(daemon.entries.last?["CONFIG_FILE"] == daemon.configPath)
        #expect(daemon.profile == "server" && daemon.reloads == (0, 2))
        #expect(try daemon.sysctl.compact() == "1800/30/3")
    }

    @Test func repeatedRequestsAreOneReloadInTheJournalAndTheCounts() throws {
        let daemon = try StartedDaemon()
        let now = MonotonicClock.now()
        for offset in 0..<5 { daemon.running.reload.requested(at: now + .milliseconds(offset)) }
        try daemon.renameIntoPlace(ReloadControllerTests.web)
        daemon.settle()
        #expect(daemon.events == ["applied"])
        #expect(daemon.reloads == (1, 0))
        #expect(try daemon.sysctl.compact() == "1800/15/3")
    }
}

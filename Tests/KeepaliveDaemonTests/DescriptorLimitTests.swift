import Foundation
import KeepaliveTestKit
import Testing

/// The descriptor limit and the fleet (issue 32, finding 7): each managed namespace holds
/// three descriptors. The daemon raises its soft RLIMIT_NOFILE to the hard one at start, and
/// at the hard limit keeps a cap with room to spare: one warning, rule matches before
/// `manage = all` fallbacks. A real daemon under a low limit (`KT_NOFILE`), with more
/// `ip netns` namespaces than fit, made in its own mount namespace.
@Suite("Descriptor limit and the fleet", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil && ChildProcessLookup.path(of: "nsenter") != nil,
                Comment(rawValue: DaemonUnderTest.unavailableReason ?? "nsenter is not installed")))
struct DescriptorLimitTests {
    func started(_ config: String, limit: String, pidNamespace: Bool = false) throws -> DaemonUnderTest {
        try DaemonUnderTest.started(config: config, pidNamespace: pidNamespace, environment: ["KT_NOFILE": limit])
    }

    /// `ip netns add` of each name, in one child process.
    func add(_ daemon: DaemonUnderTest, _ names: [String]) throws {
        let result = try daemon.runInMountNamespace(["sh", "-c", "for n in \(names.joined(separator: " ")); do ip netns add $n || exit 1; done"])
        #expect(result.status == 0, "\(result)")
    }

    /// The daemon's soft and hard `Max open files`, from /proc/PID/limits.
    func openFilesLimit(_ daemon: DaemonUnderTest) throws -> [String] {
        let limits = try String(contentsOfFile: "/proc/\(daemon.pid)/limits", encoding: .utf8)
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        return line.dropFirst("Max open files".count).split(separator: " ").prefix(2).map(String.init)
    }

    /// Under a soft limit of 40 (room for about 9 namespaces) and a hard one of 400, twenty
    /// namespaces are all managed: the soft limit was raised at start.
    @Test func theSoftLimitIsRaisedToTheHardOneAtStart() throws {
        let daemon = try started(serverConfig + "[namespaces]\nmanage = matching\n[namespaces.rules]\nweb = netns:kt-web-*\n", limit: "40:400")
        #expect(try openFilesLimit(daemon) == ["400", "400"])
        try add(daemon, (1...20).map { "kt-web-\($0)" })
        #expect(daemon.waitForNotify { $0["STATUS"] == serverStatus + "; 20 namespaces managed, 0 drifting" } != nil, "\(daemon.journalText)")
        #expect(!daemon.journal.all.contains { $0["EVENT"] == "namespaces-limited" }, "\(daemon.journalText)")
    }

    /// At a hard limit of 100, 67 descriptors stay the daemon's own and 11 namespaces fit.
    /// Fourteen appear at once (the daemon stopped meanwhile, so one scan sees them all):
    /// both rule matches are managed, 9 fallbacks, and one warning says 3 stay unmanaged. A
    /// rule match that comes later takes the place of the newest fallback, which is released
    /// as it is; no second warning.
    @Test func atTheHardLimitRuleMatchesWinAndOneWarningSaysSo() throws {
        let metrics = try TemporaryDirectory("kt-metrics")
        let textfile = try TextfileWatch(metrics.url("kt.prom"))
        let daemon = try started(serverConfig + """
            [metrics]
            textfile = \(metrics.url("kt.prom"))
            [namespaces]
            manage = all
            profile = nat
            [namespaces.rules]
            web = netns:kt-web-*

            """, limit: "100", pidNamespace: true)
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.waitForExit()
        }
        #expect(daemon.waitUntilWaiting())
        daemon.signal(SIGSTOP)
        #expect(daemon.waitUntilStopped())
        try add(daemon, (1...12).map { "kt-any-\($0)" } + ["kt-web-1", "kt-web-2"])
        daemon.signal(SIGCONT)

        let limited = try #require(daemon.waitForEvent("namespaces-limited") { $0["LIMIT"] != nil }, "\(daemon.journalText)")
        #expect(limited.entry["LIMIT"] == "100" && limited.entry["CAPACITY"] == "11" && limited.entry["UNMANAGED"] == "3", "\(limited.entry)")
        #expect(limited.entry["PRIORITY"] == "4")
        #expect(daemon.waitForNotify { $0["STATUS"] == serverStatus + "; 11 namespaces managed, 0 drifting" } != nil, "\(daemon.journalText)")
        for name in ["kt-web-1", "kt-web-2"] {
            let adopted = try #require(daemon.waitForEvent("namespace-adopted") { $0["NETNS_NAME"] == name }, "\(daemon.journalText)")
            #expect(adopted.entry["PROFILE"] == "web")
        }

        try add(daemon, ["kt-web-3"])
        let released = try #require(daemon.waitForEvent("namespace-released", from: limited.index), "\(daemon.journalText)")
        let evicted = try #require(released.entry["NETNS_NAME"])
        #expect(evicted.hasPrefix("kt-any-"), "\(released.entry)")
        #expect(released.entry["MESSAGE"]?.contains("descriptor limit") == true, "\(released.entry)")
        #expect(daemon.waitForEvent("namespace-adopted") { $0["NETNS_NAME"] == "kt-web-3" }?.entry["PROFILE"] == "web", "\(daemon.journalText)")
        #expect(try daemon.values(inNetns: evicted) == "1800/75/9", "released as it is, not restored")
        #expect(try daemon.values(inNetns: "kt-web-3") == "1800/15/3")
        #expect(daemon.journal.all.filter { $0["EVENT"] == "namespaces-limited" }.count == 1, "\(daemon.journalText)")
        #expect(!daemon.journal.all.contains { $0["MESSAGE"]?.contains("Too many open files") == true }, "\(daemon.journalText)")

        // The metrics say how many are left out, and why.
        #expect(textfile.wait { $0.contains("\nkeepalived_tune_namespaces_over_limit 4\n") } != nil, "\(textfile.last ?? "(no file)")")
    }
}

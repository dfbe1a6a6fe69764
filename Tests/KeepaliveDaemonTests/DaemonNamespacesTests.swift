import Foundation
import KeepaliveTestKit
import Testing

/// `[namespaces]` with real network namespaces. The daemon runs in a private mount namespace
/// with its own `/run`, so `/run/netns` holds only what the test adds there with `ip netns`;
/// the rules name only the test's own namespaces, and "all" is tested inside a PID namespace
/// of the daemon's own, where every process is the test's.
@Suite("Network namespaces under the daemon", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil && ChildProcessLookup.path(of: "nsenter") != nil,
                Comment(rawValue: DaemonUnderTest.unavailableReason ?? "nsenter is not installed")))
struct DaemonNamespacesTests {
    /// web: 1800/15/3; nat: 1800/75/9 (the built-in profiles).
    static let matching = serverConfig + """
        check-interval = 1s

        [namespaces]
        manage = matching

        [namespaces.rules]
        nat = netns:kt-nat-*
        web = netns:kt-web-*

        """

    func add(_ daemon: DaemonUnderTest, _ name: String) throws {
        let result = try daemon.runInMountNamespace(["ip", "netns", "add", name])
        #expect(result.status == 0, "\(result)")
    }

    func adopted(_ daemon: DaemonUnderTest, _ name: String) throws -> (entry: [String: String], index: Int) {
        try #require(daemon.waitForEvent("namespace-adopted") { $0["NETNS_NAME"] == name }, "\(daemon.journalText)")
    }

    /// The daemon's descriptors that are network namespaces (`net:[INODE]`): none, ever.
    func namespaceDescriptors(_ daemon: DaemonUnderTest) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon.pid)/fd/\($0)")
        }.filter { $0.hasPrefix("net:[") }
    }

    /// The nsfs mounts of namespace `inode` in the daemon's mount namespace.
    func namespaceMounts(_ daemon: DaemonUnderTest, inode: String) throws -> [String] {
        try String(contentsOfFile: "/proc/\(daemon.pid)/mountinfo", encoding: .utf8).split(separator: "\n")
            .map(String.init).filter { $0.contains("net:[\(inode)]") }
    }

    @Test func anIpNetnsAddedAfterStartComesUnderItsRuleAndStaysThere() throws {
        let daemon = try DaemonUnderTest.started(config: Self.matching)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        // The unmatched one first: by the time the others are adopted, it has been seen.
        try add(daemon, "kt-other-\(suffix)")
        try add(daemon, "kt-web-\(suffix)")
        try add(daemon, "kt-nat-\(suffix)")
        let web = try adopted(daemon, "kt-web-\(suffix)")
        #expect(web.entry["PROFILE"] == "web" && web.entry["EXPECTED"] == "1800/15/3")
        #expect(web.entry["KIND"] == "netns" && web.entry["NETNS"].flatMap(UInt64.init) != nil)
        #expect(web.entry["RULE"]?.hasPrefix("rule web = netns:kt-web-* at ") == true)
        let nat = try adopted(daemon, "kt-nat-\(suffix)")
        #expect(nat.entry["PROFILE"] == "nat")
        #expect(try daemon.values(inNetns: "kt-web-\(suffix)") == "1800/15/3")
        #expect(try daemon.values(inNetns: "kt-nat-\(suffix)") == "1800/75/9")
        #expect(daemon.waitForNotify { $0["STATUS"] == serverStatus + "; 2 namespaces managed, 0 drifting" } != nil)

        // Drift inside a managed namespace is corrected there, reported with its identity.
        let write = try daemon.runInMountNamespace(["ip", "netns", "exec", "kt-web-\(suffix)", "sysctl", "-qw", "net.ipv4.tcp_keepalive_time=999"])
        #expect(write.status == 0, "\(write)")
        let corrected = try #require(daemon.waitForEvent("corrected") { $0["NETNS_NAME"] == "kt-web-\(suffix)" }, "\(daemon.journalText)")
        #expect(corrected.entry["ACTUAL"] == "999" && corrected.entry["PROFILE"] == "web" && corrected.entry["NETNS"] == web.entry["NETNS"])
        #expect(try daemon.values(inNetns: "kt-web-\(suffix)") == "1800/15/3")

        // A namespace no rule matches is never written, nor named in any entry.
        #expect(try daemon.values(inNetns: "kt-other-\(suffix)") == "7200/75/9")
        #expect(!daemon.journal.all.contains { $0["NETNS_NAME"] == "kt-other-\(suffix)" })
        #expect(try daemon.values() == "1800/30/3")
    }

    @Test func aDestroyedNamespaceIsDroppedAndNothingOfItRemains() throws {
        let daemon = try DaemonUnderTest.started(config: Self.matching)
        try add(daemon, "kt-web-gone")
        let adoption = try adopted(daemon, "kt-web-gone")
        let inode = try #require(adoption.entry["NETNS"])
        // Held: three sysctl descriptors; never the namespace itself.
        #expect(try namespaceDescriptors(daemon) == [], "the daemon keeps the namespace alive")
        #expect(try namespaceMounts(daemon, inode: inode).count == 1)   // the test's own ip netns pin
        // The status said 0 namespaces before the adoption too: wait for the one that follows
        // "1 namespace managed", sent once the ended namespace's state is gone.
        let managed = try #require(daemon.waitForNotify { $0["STATUS"] == serverStatus + "; 1 namespace managed, 0 drifting" })
        #expect(try daemon.runInMountNamespace(["ip", "netns", "delete", "kt-web-gone"]).status == 0)
        let gone = try #require(daemon.waitForEvent("namespace-gone") { $0["NETNS"] == inode }, "\(daemon.journalText)")
        #expect(gone.entry["NETNS_NAME"] == "kt-web-gone" && gone.entry["PRIORITY"] == "6")
        #expect(daemon.waitForNotify(from: managed.index + 1) { $0["STATUS"] == serverStatus + "; 0 namespaces managed, 0 drifting" } != nil)
        #expect(try namespaceDescriptors(daemon) == [])
        #expect(try namespaceMounts(daemon, inode: inode) == [])
        let links = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon.pid)/fd/\($0)")
        }
        // Only the daemon's own three keepalive files remain open among /proc/sys files.
        #expect(links.filter { $0.hasPrefix("/proc/sys/net/ipv4/tcp_keepalive_") }.count == 3, "\(links)")
    }

    @Test func aReloadThatNoLongerSelectsANamespaceLeavesItAsItIs() throws {
        let daemon = try DaemonUnderTest.started(config: Self.matching)
        try add(daemon, "kt-web-kept")
        let adoption = try adopted(daemon, "kt-web-kept")
        try daemon.editConfig(serverConfig + "check-interval = 1s\n[namespaces]\nmanage = matching\n[namespaces.rules]\nnat = netns:kt-nat-*\n")
        let released = try #require(daemon.waitForEvent("namespace-released", from: adoption.index) { $0["NETNS_NAME"] == "kt-web-kept" },
                                    "\(daemon.journalText)")
        #expect(released.entry["MESSAGE"]?.contains("left as they are") == true)
        #expect(try daemon.values(inNetns: "kt-web-kept") == "1800/15/3")
        // No longer watched: a write there is not corrected.
        _ = try daemon.runInMountNamespace(["ip", "netns", "exec", "kt-web-kept", "sysctl", "-qw", "net.ipv4.tcp_keepalive_time=999"])
        try add(daemon, "kt-nat-after")
        _ = try adopted(daemon, "kt-nat-after")
        #expect(!daemon.journal.all.contains { $0["EVENT"] == "corrected" && $0["NETNS_NAME"] == "kt-web-kept" })
    }

    @Test func restoreOnStopPutsEachNamespaceBack() throws {
        let daemon = try DaemonUnderTest.started(config: Self.matching.replacingOccurrences(of: "check-interval = 1s\n", with: "check-interval = 1s\nrestore-on-stop = yes\n"))
        try add(daemon, "kt-nat-restore")
        _ = try adopted(daemon, "kt-nat-restore")
        #expect(try daemon.values(inNetns: "kt-nat-restore") == "1800/75/9")
        // The daemon's mount namespace (and its /run/netns) ends with it: a process inside
        // the namespace keeps it reachable for the check after the stop.
        let holder = try SpawnedProcess(["nsenter", "-t", String(daemon.pid), "-m", "--", "ip", "netns", "exec", "kt-nat-restore",
                                         "sh", "-c", "echo $$; exec sleep 600"], stdout: .pipe)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = holder.output!.availableData   // blocks until the shell writes
            if chunk.isEmpty { break }
            line += chunk
        }
        let holderPID = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let holderProcess = try #require(Int32(holderPID), "the holder never started")
        defer {
            kill(holderProcess, SIGKILL)
            holder.wait()
        }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let after = try ChildProcess.run(["nsenter", "-t", holderPID, "-n", "--", "sh", "-c",
            "cat /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/tcp_keepalive_intvl /proc/sys/net/ipv4/tcp_keepalive_probes"])
        #expect(after.stdout.split(separator: "\n").joined(separator: "/") == "7200/75/9", "\(after)")
        #expect(daemon.journal.all.contains { $0["EVENT"] == "restored" && $0["NETNS_NAME"] == "kt-nat-restore" })
    }

    /// `manage = all` inside a PID namespace of its own: every namespace there is the
    /// test's. Two pathless `unshare -n` processes (named alike: by their cgroup) are found
    /// by the /proc rescan, and keep apart in the metrics; an excluded name and the fallback
    /// profile are honoured.
    @Test func manageAllReachesEveryNamespaceButTheExcluded() throws {
        let metrics = try TemporaryDirectory("kt-metrics")
        let daemon = try DaemonUnderTest.started(config: serverConfig + """
            check-interval = 1s
            [metrics]
            textfile = \(metrics.url("kt.prom"))
            [namespaces]
            manage = all
            profile = nat
            exclude = netns:kt-skip-*
            rescan-interval = 1s
            [namespaces.rules]
            web = netns:kt-web-*

            """, pidNamespace: true)
        try add(daemon, "kt-skip-1")
        try add(daemon, "kt-web-1")
        try add(daemon, "kt-any-1")
        #expect(try adopted(daemon, "kt-web-1").entry["PROFILE"] == "web")
        #expect(try adopted(daemon, "kt-any-1").entry["PROFILE"] == "nat")
        // Two processes in namespaces of their own, with no name anywhere.
        let sleepers = try (0..<2).map { _ in try SpawnedProcess(daemon.nsenterPrefix + ["unshare", "-n", "--", "sleep", "600"]) }
        defer {
            // The sleepers die with the daemon, the PID namespace's first process.
            daemon.signal(SIGTERM)
            _ = daemon.waitForExit()
            for sleeper in sleepers { sleeper.wait() }
        }
        let pathless = try #require(daemon.waitForEvent("namespace-adopted") { $0["NETNS_NAME"] == nil }, "\(daemon.journalText)")
        #expect(pathless.entry["PROFILE"] == "nat")
        let second = try #require(daemon.waitForEvent("namespace-adopted", from: pathless.index + 1) { $0["NETNS_NAME"] == nil },
                                  "\(daemon.journalText)")
        #expect(second.entry["NETNS"] != pathless.entry["NETNS"])
        // Both have a series of their own (a name taken already gets @INODE), and the
        // exposition stays valid: no two series share labels.
        /// The exposition's dead-peer-detection series, one line each.
        func detectionSeries(_ text: String) -> [String] {
            text.split(separator: "\n").filter { $0.hasPrefix("keepalived_tune_dead_peer_detection_seconds{") }.map(String.init)
        }
        let textfile = try TextfileWatch(metrics.url("kt.prom"))
        // host, kt-web-1, kt-any-1 and the two sleepers at least
        let text = textfile.wait { detectionSeries($0).count >= 5 && detectionSeries($0).contains { $0.contains("@") } } ?? textfile.last ?? ""
        let detection = detectionSeries(text)
        #expect(detection.count >= 5 && Set(detection).count == detection.count, "\(text)")
        #expect(detection.contains { $0.contains("@\(second.entry["NETNS"] ?? "?")\"}") || $0.contains("@\(pathless.entry["NETNS"] ?? "?")\"}") },
                "\(detection)")
        if DaemonMetricsTests.promtool != nil { try DaemonMetricsTests.expectPromtoolAccepts(text, "two namespaces named alike") }
        let skipped = try daemon.values(inNetns: "kt-skip-1")
        #expect(skipped == "7200/75/9", "\(daemon.journalText)")
        #expect(!daemon.journal.all.contains { $0["NETNS_NAME"] == "kt-skip-1" })
        #expect(try daemon.values() == "1800/30/3")
    }

    /// Without CAP_SYS_ADMIN (the default unit's bounding set), the daemon says exactly what
    /// is missing at start and keeps its own namespace in force.
    @Test func withoutTheCapabilitiesItSaysWhatIsMissingAndKeepsItsOwnNamespace() throws {
        let daemon = try DaemonUnderTest.started(config: Self.matching, environment: ["KT_WRAPPER": "setpriv --bounding-set -sys_admin,-sys_ptrace --inh-caps -sys_admin,-sys_ptrace"])
        let limited = try #require(daemon.waitForEvent("namespaces-limited"), "\(daemon.journalText)")
        #expect(limited.entry["MISSING"]?.contains("CAP_SYS_ADMIN") == true, "\(limited.entry)")
        #expect(limited.entry["MISSING"]?.contains("CAP_SYS_PTRACE") == true)
        #expect(limited.entry["PRIORITY"] == "4")
        #expect(try daemon.values() == "1800/30/3")
        try add(daemon, "kt-web-denied")
        let denied = try #require(daemon.waitForEvent("namespaces-limited", from: limited.index + 1) { $0["NETNS_NAME"] == "kt-web-denied" },
                                  "\(daemon.journalText)")
        #expect(denied.entry["MESSAGE"]?.contains("CAP_SYS_ADMIN") == true)
        #expect(try daemon.values(inNetns: "kt-web-denied") == "7200/75/9")
    }
}

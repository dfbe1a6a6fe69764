import Foundation
import KeepaliveTestKit
import Testing

/// `[metrics] textfile`: the exposition the real daemon writes in each state the tests
/// reach (clean, contested, rejected reload, drifted), checked by `promtool check metrics`
/// and against the kernel's values; served by a real node_exporter; and never seen half
/// written.
@Suite("Metrics textfile", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil, Comment(rawValue: DaemonUnderTest.unavailableReason ?? "")))
struct DaemonMetricsTests {
    /// A daemon writing its metrics into a directory of the test's own.
    final class Metered {
        let directory: TemporaryDirectory
        let daemon: DaemonUnderTest
        var path: String { directory.url("keepalived-tune.prom") }

        init(_ config: String = serverConfig) throws {
            directory = try TemporaryDirectory("kt-metrics")
            daemon = try DaemonUnderTest.started(config: config + "[metrics]\ntextfile = \(directory.url("keepalived-tune.prom"))\n")
        }

        /// The file's text once `predicate` holds for it (the daemon writes it at the end of
        /// the loop turn that logged what the test waits for): as it is, then each version
        /// renamed over it.
        func await(_ what: String, _ predicate: (Exposed) -> Bool) throws -> Exposed {
            let textfile = try TextfileWatch(path)
            if let text = textfile.wait(until: { predicate(Exposed($0)) }) { return Exposed(text) }
            Issue.record("the metrics never showed \(what); last:\n\(textfile.last ?? "(no file)")\n\(daemon.journalText)")
            throw MetricsNotSeen()
        }
    }

    struct MetricsNotSeen: Error {}

    /// A parsed exposition: sample lines by series (`name{labels}`).
    struct Exposed {
        let text: String
        let samples: [String: String]

        init(_ text: String) {
            self.text = text
            var samples: [String: String] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " ") else { continue }
                samples[String(line[..<space])] = String(line[line.index(after: space)...])
            }
            self.samples = samples
        }

        subscript(_ series: String) -> String? { samples[series] }

        /// The host's three values as `time/intvl/probes`.
        func values(netns: String = "host") -> String {
            ["time", "intvl", "probes"].map { samples["keepalived_tune_sysctl_value{netns=\"\(netns)\",sysctl=\"net.ipv4.tcp_keepalive_\($0)\"}"] ?? "?" }
                .joined(separator: "/")
        }

        static func key(_ family: String, _ name: String, netns: String = "host") -> String {
            "\(family){netns=\"\(netns)\",sysctl=\"net.ipv4.tcp_keepalive_\(name)\"}"
        }
    }

    static let promtool = ChildProcessLookup.path(of: "promtool")

    /// `promtool check metrics` passes on `text`: the format and Prometheus's naming lint.
    static func expectPromtoolAccepts(_ text: String, _ state: String) throws {
        let result = try ChildProcess.run(["promtool", "check", "metrics"], stdin: text)
        #expect(result.status == 0 && result.stderr.isEmpty && result.stdout.isEmpty, "\(state):\n\(result)\n\(text)")
    }

    @Test(.enabled(if: promtool != nil, "promtool is not installed (apt-get install prometheus)"))
    func theExpositionIsValidAndTrueInEveryState() throws {
        let metered = try Metered(serverConfig + "check-interval = 1h\n")
        let daemon = metered.daemon

        // Clean.
        let clean = try metered.await("the profile in force") { $0.values() == "1800/30/3" }
        #expect(try daemon.values() == clean.values())
        #expect(clean["keepalived_tune_info{version=\"0.1.0\",profile=\"server\"}"] == "1")
        #expect(clean["keepalived_tune_config_valid"] == "1")
        #expect(clean[Exposed.key("keepalived_tune_drift", "time")] == "0")
        #expect(clean["keepalived_tune_dead_peer_detection_seconds{netns=\"host\"}"] == "1890")
        #expect(clean["keepalived_tune_namespaces_managed"] == "0")
        try Self.expectPromtoolAccepts(clean.text, "clean")

        // Contested: six resets, the key left alone.
        _ = try provokeContest(daemon)
        let contested = try metered.await("the contest") { $0[Exposed.key("keepalived_tune_contested", "time")] == "1" }
        #expect(contested[Exposed.key("keepalived_tune_corrections_total", "time")] == "5")
        #expect(contested[Exposed.key("keepalived_tune_drift_events_total", "time")] == "6")
        #expect(contested[Exposed.key("keepalived_tune_drift", "time")] == "1")
        #expect(try contested.values() == daemon.values())
        try Self.expectPromtoolAccepts(contested.text, "contested")

        // A rejected reload: the last good profile stays, the config is marked invalid.
        try daemon.editConfig("[daemon]\nprofile = no-such-profile\n")
        _ = try #require(daemon.waitForEvent("reload-rejected"), "\(daemon.journalText)")
        let rejected = try metered.await("the rejected reload") { $0["keepalived_tune_config_valid"] == "0" }
        #expect(rejected["keepalived_tune_reloads_total{result=\"rejected\"}"] == "1")
        #expect(rejected["keepalived_tune_reloads_total{result=\"applied\"}"] == "0")
        #expect(rejected["keepalived_tune_info{version=\"0.1.0\",profile=\"server\"}"] == "1")
        try Self.expectPromtoolAccepts(rejected.text, "rejected reload")
    }

    @Test(.enabled(if: promtool != nil, "promtool is not installed (apt-get install prometheus)"))
    func driftThatIsOnlyWarnedAboutStaysVisible() throws {
        let metered = try Metered(serverConfig + "on-drift = warn\ncheck-interval = 1h\n")
        _ = try metered.await("the profile in force") { $0.values() == "1800/30/3" }
        try metered.daemon.write("tcp_keepalive_probes", 9)
        _ = try #require(metered.daemon.waitForEvent("drift"), "\(metered.daemon.journalText)")
        let drifted = try metered.await("the drift") { $0[Exposed.key("keepalived_tune_drift", "probes")] == "1" }
        #expect(drifted.values() == "1800/30/9")
        #expect(try metered.daemon.values() == "1800/30/9")
        #expect(drifted[Exposed.key("keepalived_tune_sysctl_expected", "probes")] == "3")
        #expect(drifted[Exposed.key("keepalived_tune_drift_events_total", "probes")] == "1")
        #expect(drifted[Exposed.key("keepalived_tune_corrections_total", "probes")] == "0")
        #expect(drifted["keepalived_tune_dead_peer_detection_seconds{netns=\"host\"}"] == "2070")
        try Self.expectPromtoolAccepts(drifted.text, "drifted")

        // `status --prometheus` says the same, in the same format.
        let status = try metered.daemon.runInNamespace([ChildProcess.keepalivedTune, "status", "--prometheus",
                                                        "--config", metered.daemon.configPath, "--profile-dir", metered.daemon.profileDirectory])
        #expect(status.status == 0, "\(status)")
        let once = Exposed(status.stdout)
        #expect(once.values() == "1800/30/9" && once[Exposed.key("keepalived_tune_drift", "probes")] == "1")
        #expect(once["keepalived_tune_reloads_total{result=\"applied\"}"] == nil, "the counters are the daemon's")
        try Self.expectPromtoolAccepts(status.stdout, "status --prometheus")
    }

    /// The connections audit's families, with live peers in a unit (a cgroup the fixture
    /// makes): never-reaped connections at the first audit, keepalive given, and the next
    /// audit seeing it on.
    @Test(.enabled(if: promtool != nil && LivePeers.unavailableReason == nil,
                   Comment(rawValue: LivePeers.unavailableReason ?? "promtool is not installed (apt-get install prometheus)")))
    func theConnectionsAuditIsCounted() throws {
        let unit = "kt-test-metrics-\(getpid()).service"
        let metered = try Metered(serverConfig + "[connections]\naudit-interval = 1s\nenable-keepalive = \(unit)\n")
        let daemon = metered.daemon
        defer { daemon.signal(SIGTERM); _ = daemon.waitForExit() }
        let peers = try LivePeers(["--join", String(daemon.pid), "--unit", unit, "--connections", "5"])
        defer { peers.stop() }
        _ = try #require(daemon.waitForEvent("keepalive-enabled", where: { $0["UNIT"] == unit }), "\(daemon.journalText)")
        let given = try metered.await("keepalive given") { $0["keepalived_tune_keepalive_enabled_total{unit=\"\(unit)\"}"] == "6" }
        try Self.expectPromtoolAccepts(given.text, "keepalive given")
        let after = try metered.await("the next audit") {
            $0["keepalived_tune_connections{unit=\"\(unit)\",state=\"established\",keepalive=\"on\"}"] == "5"
        }
        #expect(after["keepalived_tune_connections_never_reaped{unit=\"\(unit)\"}"] == "0")
        #expect(after["keepalived_tune_connections{unit=\"\(unit)\",state=\"established\",keepalive=\"off\"}"] == nil)
        try Self.expectPromtoolAccepts(after.text, "audited")
    }

    static let nodeExporter = ChildProcessLookup.path(of: "prometheus-node-exporter")

    /// Debian's node_exporter, started by the test in the daemon's private network
    /// namespace (its own 127.0.0.1), serving only the textfile collector from the test's
    /// directory; scraped over HTTP, then stopped.
    @Test(.enabled(if: nodeExporter != nil, "prometheus-node-exporter is not installed"))
    func aRealNodeExporterServesTheDaemonsMetrics() throws {
        let metered = try Metered()
        let daemon = metered.daemon
        _ = try metered.await("the profile in force") { $0.values() == "1800/30/3" }
        let log = metered.directory.url("node-exporter.log")
        let started = try daemon.runInNamespace(["bash", "-c", """
            ip link set lo up || exit 1
            for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
            prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.textfile \
              --collector.textfile.directory="$1" > "$2" 2>&1 < /dev/null &
            echo $!
            """, "bash", metered.directory.path, log])
        let pid = try #require(Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(started)")
        defer {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))
                .map({ !$0[($0.lastIndex(of: ")") ?? $0.startIndex)...].hasPrefix(") Z") }) == true { usleep(10_000) }
        }
        // Scraped until node_exporter answers (it starts in a moment; bounded).
        var scraped: Exposed?
        let deadline = Date().addingTimeInterval(MessageLog.defaultTimeout)
        while Date() < deadline {
            let result = try daemon.runInNamespace(["curl", "-sf", "http://127.0.0.1:9100/metrics"])
            if result.status == 0 {
                scraped = Exposed(result.stdout)
                break
            }
            guard kill(pid, 0) == 0 else { break }
            usleep(20_000)
        }
        let metrics = try #require(scraped, "node_exporter never answered: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(metrics["node_textfile_scrape_error"] == "0", "\(metrics.text)")
        #expect(try metrics.values() == daemon.values())
        #expect(metrics["keepalived_tune_config_valid"] == "1")
        #expect(metrics.samples.keys.contains { $0.hasPrefix("node_textfile_mtime_seconds{file=") && $0.contains("keepalived-tune.prom") })
    }

    /// A reader that reads the file over and over while the config is rewritten and
    /// SIGHUP sent 200 times never sees part of a file: every read is a whole exposition.
    /// The window of a write in place is microseconds, so the directory is watched too: the
    /// `.prom` file is only ever replaced by a rename, never written where it lies.
    @Test func aReaderNeverSeesAPartialFile() throws {
        let metered = try Metered()
        let daemon = metered.daemon
        _ = try metered.await("the profile in force") { $0.values() == "1800/30/3" }
        let watch = try DirectoryWatch(metered.directory.path, mask: UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO))
        let stop = StopFlag()
        let path = metered.path
        final class Reads: @unchecked Sendable {
            var count = 0
            var partial: [String] = []
        }
        let reads = Reads()
        let finished = DispatchSemaphore(value: 0)
        let reader = Thread {
            defer { finished.signal() }   // the join: what the thread wrote is seen after the wait
            while !stop.isRaised {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let text = String(decoding: data, as: UTF8.self)
                reads.count += 1
                if !(text.hasPrefix("# HELP keepalived_tune_info ") && text.hasSuffix("\n")
                     && text.contains("\nkeepalived_tune_last_update_timestamp_seconds ")) {
                    reads.partial.append(text)
                }
            }
        }
        reader.start()
        for round in 0..<200 {
            try daemon.editConfig("[daemon]\nprofile = \(round % 2 == 0 ? "web" : "server")\n[metrics]\ntextfile = \(path)\n")
            daemon.signal(SIGHUP)
        }
        try daemon.editConfig("[daemon]\nprofile = nat\n[metrics]\ntextfile = \(path)\n")
        _ = try metered.await("the last profile") { $0["keepalived_tune_info{version=\"0.1.0\",profile=\"nat\"}"] == "1" }
        stop.raise()
        finished.wait()
        #expect(reads.partial.isEmpty, "\(reads.partial.count) partial reads, the first:\n\(reads.partial.first ?? "")")
        // Every event on the directory.
        let events = watch.pendingEvents()
        let onFile = events.filter { $0.name == "keepalived-tune.prom" }
        #expect(onFile.contains { $0.mask & UInt32(IN_MOVED_TO) != 0 }, "the file was not replaced during the storm: \(events)")
        #expect(!onFile.contains { $0.mask & UInt32(IN_MODIFY | IN_CLOSE_WRITE) != 0 }, "the file was written in place: \(onFile)")
        // (How many versions the reader met depends on scheduling; that files were replaced
        // during the storm is what the watch below counts.)
        #expect(reads.count > 0, "the reader never read the file")
    }
}

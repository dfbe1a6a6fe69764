import Foundation
import KeepaliveDaemon
import KeepaliveModel
import KeepaliveTestKit
import Testing

/// The unit and catalog exactly as shipped in systemd/.
@Suite("Shipped systemd files")
struct ShippedFilesTests {
    static let unit = FileList.packageRoot + "/systemd/keepalived-tune.service"
    static let catalog = FileList.packageRoot + "/systemd/keepalived-tune.catalog"
    static let analyze = FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")

    @Test(.enabled(if: analyze, "systemd-analyze is not installed"))
    func securityExposureIsAtMost2() throws {
        let result = try ChildProcess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", Self.unit])
        let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(result)")
        let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        #expect(score <= 2.0, "\(line)")
        // Every remaining exposure is explained in the unit file.
        let unitText = try String(contentsOfFile: Self.unit, encoding: .utf8)
        for exposure in result.stdout.split(separator: "\n").filter({ $0.hasPrefix("✗") }) {
            let setting = exposure.dropFirst(2).prefix { $0 != "=" }
            #expect(unitText.contains("Exposure kept: \(setting)="), "no comment for \(setting)")
        }
    }

    /// The unit with a shipped drop-in merged in, as systemd merges it (an empty setting
    /// resets the list): the exposure it adds is the one its comments and README state.
    func mergedScore(_ dropInFile: String) throws -> (dropIn: String, settings: [Substring], score: Double, report: String) {
        let dropIn = try String(contentsOfFile: FileList.packageRoot + "/systemd/\(dropInFile)", encoding: .utf8)
        let settings = dropIn.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("[") && $0.contains("=") }
        let unit = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let directory = try TemporaryDirectory("kt-unit")
        let merged = try directory.write("keepalived-tune.service",
                                         unit.replacingOccurrences(of: "[Install]", with: settings.joined(separator: "\n") + "\n\n[Install]"))
        let result = try ChildProcess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", merged])
        let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(result)")
        let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        #expect(dropIn.contains("scores the unit with\n# this drop-in \(score) (1.7 without it)"), "\(line)")
        return (dropIn, settings, score, result.stdout)
    }

    /// The connections drop-in adds only what the audit needs: pidfd_getfd comes back.
    @Test(.enabled(if: analyze, "systemd-analyze is not installed"))
    func theConnectionsDropInAddsOnlyWhatTheAuditNeeds() throws {
        let merged = try mergedScore("connections.conf")
        #expect(merged.settings == ["RestrictAddressFamilies=AF_NETLINK", "CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH",
                                    "SystemCallFilter=pidfd_getfd"])
        let readme = try String(contentsOfFile: FileList.packageRoot + "/README.md", encoding: .utf8)
        #expect(readme.contains("| with the connections drop-in | \(merged.score) |"), "README states the score")
        #expect(merged.report.contains("pidfd_getfd is allowed"))
    }

    /// The namespaces drop-in adds setns (CAP_SYS_ADMIN, RestrictNamespaces=net), ptrace
    /// for containers' /proc/PID/ns/net, a hard descriptor limit for three descriptors a
    /// namespace, and lifts the sysctl bind mounts; the rest stays.
    @Test(.enabled(if: analyze, "systemd-analyze is not installed"))
    func theNamespacesDropInAddsOnlyWhatEnteringNamespacesNeeds() throws {
        let merged = try mergedScore("namespaces.conf")
        #expect(merged.settings.prefix(7) == ["CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_PTRACE", "RestrictNamespaces=net",
                                              "RestrictAddressFamilies=AF_NETLINK", "LimitNOFILE=1024:524288", "ReadWritePaths=",
                                              "ReadWritePaths=-/var/lib/prometheus/node-exporter", "ReadOnlyPaths="])
        #expect(merged.settings.last?.hasPrefix("ReadOnlyPaths=/sys /proc/sys/kernel /proc/sys/vm") == true)
        #expect(!merged.settings.contains { $0.contains("/proc/sys/net") })
        let readme = try String(contentsOfFile: FileList.packageRoot + "/README.md", encoding: .utf8)
        #expect(readme.contains("| with the namespaces drop-in | \(merged.score) |"), "README states the score")
        #expect(merged.report.contains("RestrictNamespaces=~net"))
    }

    /// `systemd-analyze verify` wants ExecStart's binary in place: in a private mount
    /// namespace, an overlay puts the built one into /usr/bin without touching the host.
    /// (The man pages of Documentation= are the package's, checked by ManPageTests.)
    @Test(.enabled(if: analyze && geteuid() == 0, "needs root and systemd-analyze"))
    func verifyIsClean() throws {
        let staged = try TemporaryDirectory("kt-verify")
        try FileManager.default.copyItem(atPath: ChildProcess.keepalivedTune, toPath: staged.url("keepalived-tune"))
        let result = try ChildProcess.run(["unshare", "-m", "sh", "-c",
            "mount -t overlay overlay -o lowerdir=\"$0\":/usr/bin /usr/bin && systemd-analyze verify --man=no \"$1\"",
            staged.path, Self.unit])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(result)")
    }

    @Test func unitKeepsTheEssentials() throws {
        let unit = try String(contentsOfFile: Self.unit, encoding: .utf8)
        for line in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                     "After=systemd-sysctl.service", "ProtectSystem=strict", "CapabilityBoundingSet=",
                     "ReadWritePaths=/proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/tcp_keepalive_intvl /proc/sys/net/ipv4/tcp_keepalive_probes",
                     "ReadWritePaths=-/var/lib/prometheus/node-exporter"] {
            #expect(unit.split(separator: "\n").contains { $0 == line }, "\(line)")
        }
        #expect(unit.contains("\nWatchdogSec="))
        #expect(unit.contains("\nReadOnlyPaths=/proc/sys /sys "))
    }

    @Test func catalogExplainsEveryEvent() throws {
        let text = try String(contentsOfFile: Self.catalog, encoding: .utf8)
        let ids = Set(text.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) })
        #expect(ids == Set(DaemonEvent.allCases.map(\.messageID)))
        #expect(Set(DaemonEvent.allCases.map(\.messageID)).count == DaemonEvent.allCases.count)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/journalctl"), "journalctl is not installed"))
    func journalctlAcceptsTheCatalog() throws {
        let root = try TemporaryDirectory()
        try root.write("usr/lib/systemd/catalog/keepalived-tune.catalog", String(contentsOfFile: Self.catalog, encoding: .utf8))
        let update = try ChildProcess.run(["journalctl", "--root=\(root.path)", "--update-catalog"])
        #expect(update.status == 0, "\(update)")
        let list = try ChildProcess.run(["journalctl", "--root=\(root.path)", "--list-catalog"])
        #expect(DaemonEvent.allCases.allSatisfy { event in list.stdout.contains(event.messageID) }, "\(list)")
    }

}

/// The alert rules and the dashboard in contrib/, as shipped.
@Suite("Shipped Prometheus rules and Grafana dashboard")
struct ShippedMonitoringTests {
    static let rules = FileList.packageRoot + "/contrib/prometheus/keepalived-tune.rules.yml"
    static let ruleTests = FileList.packageRoot + "/contrib/prometheus/keepalived-tune.rules.test.yml"
    static let dashboard = FileList.packageRoot + "/contrib/grafana/keepalived-tune.dashboard.json"
    static let promtool = ChildProcessLookup.path(of: "promtool")

    /// Every `keepalived_tune_…` name in `text`.
    static func metricNames(_ text: String) -> Set<String> {
        var names = Set<String>()
        var rest = Substring(text)
        while let start = rest.range(of: "keepalived_tune_") {
            let tail = rest[start.lowerBound...]
            let name = tail.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            names.insert(String(name))
            rest = tail.dropFirst(name.count)
        }
        return names
    }

    @Test(.enabled(if: promtool != nil, "promtool is not installed (apt-get install prometheus)"))
    func theRulesAreValidAndTheirTestsPass() throws {
        let check = try ChildProcess.run(["promtool", "check", "rules", Self.rules])
        #expect(check.status == 0 && check.stdout.contains("SUCCESS: 9 rules found"), "\(check)")
        let test = try ChildProcess.run(["promtool", "test", "rules", Self.ruleTests])
        #expect(test.status == 0 && test.stdout.contains("SUCCESS"), "\(test)")
    }

    @Test func everyAlertFiresInOneCaseAndNotInAnother() throws {
        let rules = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let tests = try String(contentsOfFile: Self.ruleTests, encoding: .utf8)
        let alerts = rules.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert: ") ? String(trimmed.dropFirst("- alert: ".count)) : nil
        }
        #expect(alerts.count == 9)
        // Each alert's cases: a quiet one (exp_alerts: []) and a firing one.
        let cases = tests.components(separatedBy: "alertname: ").dropFirst()
        for alert in alerts {
            let own = cases.filter { $0.hasPrefix(alert + "\n") }
            #expect(own.contains { $0.contains("exp_alerts: []") }, "\(alert) has no case where it stays quiet")
            #expect(own.contains { $0.contains("exp_labels:") }, "\(alert) has no case where it fires")
        }
        #expect(rules.components(separatedBy: "summary:").count - 1 == 9 && rules.components(separatedBy: "description:").count - 1 == 9)
    }

    @Test func theDashboardAndRulesQueryOnlyWhatTheDaemonExports() throws {
        let exported = Set(MetricFamily.allCases.map(\.rawValue))
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.dashboard))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(json["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(!expressions.isEmpty)
        let queried = expressions.reduce(into: Set<String>()) { $0.formUnion(Self.metricNames($1)) }
        #expect(queried.isSubset(of: exported), "not exported: \(queried.subtracting(exported).sorted())")
        // What the issue asks it to show.
        for family in [MetricFamily.info, .drift, .corrections, .contested, .detection, .neverReaped] {
            #expect(queried.contains(family.rawValue), "the dashboard does not show \(family.rawValue)")
        }
        let ruled = Self.metricNames(try String(contentsOfFile: Self.rules, encoding: .utf8))
        #expect(ruled.subtracting(["keepalived_tune_"]).isSubset(of: exported), "not exported: \(ruled.subtracting(exported).sorted())")
    }
}

import KeepaliveModel
import Testing

@Suite("The daemon config")
struct DaemonConfigTests {
    func parse(_ texts: String...) -> (DaemonConfig, [Diagnostic]) {
        DaemonConfig.parse(texts.enumerated().map { SourceText(path: "/c\($0.offset).conf", text: $0.element) })
    }

    @Test func defaultsWhenEmpty() {
        let (config, diagnostics) = parse()
        #expect(diagnostics.isEmpty)
        #expect(config.profileName.rawValue == "default")
        #expect(config.checkIntervalSeconds == 5)
        #expect(config.driftPolicy == .enforce)
        #expect(config.restoresOnStop == false)
    }

    @Test func theShippedExampleParses() {
        let (config, diagnostics) = parse("""
            [daemon]
            profile = server
            check-interval = 5s        # how often the kernel values are re-read (1s..1h)
            on-drift = warn            # enforce: restore the profile and report; warn: report only
            restore-on-stop = yes      # yes: put back the values found at start when the daemon stops

            [sysctl]                   # optional local overrides on top of the profile
            net.ipv4.tcp_keepalive_probes = 5
            """)
        #expect(diagnostics.isEmpty)
        #expect(config.profile == Located(ProfileName("server")!, at: SourceLocation(file: "/c0.conf", line: 2)))
        #expect(config.driftPolicy == .warn)
        #expect(config.restoresOnStop)
        #expect(config.overrides[.probes]?.value == 5)
    }

    @Test func theConnectionsSectionIsOffByDefaultAndReadWhole() {
        let defaults = parse().0
        #expect(defaults.auditIntervalSeconds == 0 && defaults.alertNeverReapedCount == 100 && defaults.keepaliveUnits.isEmpty)
        let (config, diagnostics) = parse("""
            [connections]
            audit-interval = 1min                 # how often the daemon audits connections; 0 = never
            alert-never-reaped = 100              # warn when one unit holds more never-reaped connections
            enable-keepalive = legacy-app.service worker@*.service   # units (globs) whose sockets get keepalive
            """)
        #expect(diagnostics.isEmpty)
        #expect(config.auditIntervalSeconds == 60 && config.alertNeverReapedCount == 100)
        #expect(config.keepaliveUnits.map(\.description) == ["legacy-app.service", "worker@*.service"])
        #expect(config.enableKeepalive?.location.line == 4)
        #expect(parse("[connections]\naudit-interval = 0").0.auditIntervalSeconds == 0, "0 means never")
    }

    @Test func unreapedAlertsComeOncePerCrossing() {
        func connections(_ count: Int, unit: String?, pid: Int32) -> [AuditedConnection] {
            var record = SocketRecord(state: .established, inode: 1, keepalive: .socket(on: false))
            record.idleMilliseconds = 1000
            let audit = ConnectionAudit(AuditInput(
                sockets: (0..<count).map { DiagSocket(local: "10.0.0.1:80", remote: "10.0.0.2:\(1000 + $0)", record: { var r = record; r.inode = UInt64(10 + $0); return r }($0)) },
                holders: Dictionary(uniqueKeysWithValues: (0..<count).map { (UInt64(10 + $0), [SocketHolder(pid: pid, fd: Int32(3 + $0))]) }),
                processes: [pid: HolderProcess(pid: pid, command: "app", unit: unit.map(UnitIdentity.system))]))
            return audit.connections
        }
        var alerts = UnreapedAlerts()
        let first = alerts.audit(connections(3, unit: "app.service", pid: 7), threshold: 2)
        #expect(first == [UnreapedAlerts.Alert(unit: "app.service", pid: 7, count: 3, states: [.established: 3])])
        #expect(alerts.audit(connections(4, unit: "app.service", pid: 7), threshold: 2).isEmpty, "still over: no second warning")
        #expect(alerts.audit(connections(2, unit: "app.service", pid: 7), threshold: 2).isEmpty, "back to the threshold")
        #expect(alerts.audit(connections(3, unit: "app.service", pid: 7), threshold: 2).count == 1, "over again: warned again")
        #expect(alerts.audit(connections(3, unit: nil, pid: 9), threshold: 2).first?.unit == "PID 9", "a process outside any unit")
    }

    @Test func laterDropInsWinKeyByKey() {
        let (config, _) = parse("[daemon]\nprofile = server\non-drift = warn", "[daemon]\nprofile = web", "[daemon]\ncheck-interval = 1min")
        #expect(config.profile?.value.rawValue == "web")
        #expect(config.profile?.location.file == "/c1.conf")
        #expect(config.driftPolicy == .warn)
        #expect(config.checkIntervalSeconds == 60)
    }

    @Test("invalid daemon settings", arguments: [
        ("[daemon]\ncheck-interval = 0", Diagnostic.Code.outOfRange),
        ("[daemon]\ncheck-interval = 2h", .outOfRange),
        ("[daemon]\ncheck-interval = soon", .notANumber),
        ("[daemon]\non-drift = ignore", .invalidChoice),
        ("[daemon]\nrestore-on-stop = maybe", .invalidChoice),
        ("[daemon]\nprofile = ../../etc/shadow", .invalidProfileName),
        ("[daemon]\nprofil = server", .unknownKey),
        ("[demon]\nprofile = server", .unknownSection),
        ("[sysctl]\nnet.ipv4.tcp_keepalive_probes = 0", .outOfRange),
        ("[connections]\naudit-interval = 2d", .outOfRange),
        ("[connections]\naudit-interval = often", .notANumber),
        ("[connections]\nalert-never-reaped = -1", .notANumber),
        ("[connections]\nenable-keepalive = app.service worker@[1-3.service", .invalidChoice),
        ("[connections]\nenable-keepalives = app.service", .unknownKey),
    ])
    func invalid(text: String, code: Diagnostic.Code) {
        let diagnostics = parse(text).1
        #expect(diagnostics.map(\.code) == [code])
        #expect(diagnostics.first?.location == SourceLocation(file: "/c0.conf", line: 2) || code == .unknownSection)
    }

    @Test func policyAppliesOverridesWithProvenance() throws {
        let (config, diagnostics) = parse("[daemon]\nprofile = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 5")
        let (policy, problems) = Policy.make(config: config, configDiagnostics: diagnostics, knownProfiles: []) { name, after in
            guard after == nil, let source = BuiltinProfiles.all[name] else { return .notFound }
            return .found(ProfileFile(layer: 0, source: source))
        }
        let resolved = try #require(policy, "\(problems)")
        #expect(resolved.values == KeepaliveValues(time: 1800, intvl: 30, probes: 5))
        #expect(resolved.provenance[.probes] == SourceLocation(file: "/c0.conf", line: 4))
        #expect(resolved.profile.values.probes == 3)
    }

    @Test func unknownProfileIsReportedAtTheConfigLine() {
        let (config, diagnostics) = parse("[daemon]\n\nprofile = serer")
        let (policy, problems) = Policy.make(config: config, configDiagnostics: diagnostics,
                                             knownProfiles: [ProfileName("server")!]) { _, _ in .notFound }
        #expect(policy == nil)
        #expect(problems.map(\.code) == [.unknownProfile])
        #expect(problems.first?.description == "/c0.conf:3: error: profile = serer: no such profile; did you mean 'server'? (known: server) [unknown-profile]")
    }
}

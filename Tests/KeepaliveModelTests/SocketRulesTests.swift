import KeepaliveModel
import Testing

/// `[bpf]`, `[sockets]` and `[sockets.rules]` (issue 27): how they parse, what they refuse at
/// FILE:LINE, and which workloads the map holds, from tables.
@Suite("Socket rules (keepalive at connection birth)")
struct SocketRulesTests {
    static func parse(_ text: String) -> (DaemonConfig, [Diagnostic]) {
        DaemonConfig.parse([SourceText(path: "/etc/keepalived-tune/keepalived-tune.conf", text: text)])
    }

    static let server = ProfileName("server")!, cloud = ProfileName("cloud")!, fallback = ProfileName("default")!

    /// A workload the OS layer would report: its id, path and what the path says.
    static func cgroup(_ id: UInt64, _ path: String, unit: UnitIdentity? = nil, containers: [ContainerRecord] = []) -> SocketRules.Workload {
        SocketRules.Workload(id: CgroupID(id), path: path, placement: CgroupPlacement(unit: unit), containers: containers)
    }

    static let tree: [SocketRules.Workload] = [
        cgroup(1, "/"),
        cgroup(2, "/system.slice"),
        cgroup(3, "/system.slice/legacy-app.service", unit: .system("legacy-app.service")),
        cgroup(4, "/system.slice/legacy-app.service/worker", unit: .system("legacy-app.service")),
        cgroup(5, "/system.slice/worker@1.service", unit: .system("worker@1.service")),
        // A user's own cgroup named like the system unit: never the system unit.
        cgroup(6, "/user.slice/user-1000.slice/user@1000.service/app.slice/legacy-app.service",
               unit: UnitIdentity(system: "user@1000.service", user: .init(uid: 1000, name: "legacy-app.service"))),
        cgroup(7, "/machine.slice/libpod-abc.scope",
               containers: [ContainerRecord(runtime: .podman, id: "abc", name: "frontend-1")]),
        cgroup(8, "/system.slice/nginx.service", unit: .system("nginx.service")),
    ]

    @Test func theSectionsParseWithTheirDefaults() {
        let (config, diagnostics) = Self.parse("""
            [bpf]
            mode = required
            cgroup = /sys/fs/cgroup/system.slice/
            [sockets]
            keepalive = matching
            [sockets.rules]
            server = unit:legacy-app.service unit:worker@*.service
            cloud = podman:frontend-*
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(config.hookSettings == HookSettings(mode: .required, cgroup: "/sys/fs/cgroup/system.slice", pin: "/sys/fs/bpf/keepalived-tune"))
        #expect(config.socketRules.reach == .matching)
        #expect(config.socketRules.rules.map(\.profile) == [Self.server, Self.cloud])
        #expect(DaemonConfig().hookSettings.mode == .auto && DaemonConfig().socketRules.reach == SocketRules.Reach.none)
    }

    /// Rejected values, each at its line, in words that say what to write instead.
    @Test(arguments: [
        ("[sockets.rules]\nserver = netns:vpn", 2, "netns:vpn names a network namespace, not a workload"),
        ("[sockets]\nkeepalive = some", 2, "keepalive = some is not valid; use 'none', 'matching', 'all'"),
        ("[bpf]\nmode = maybe", 2, "mode = maybe is not valid; use 'auto', 'required', 'off'"),
        ("[bpf]\n\npin = bpf/here", 3, "pin = bpf/here is not an absolute path"),
        ("[sockets.rules]\nserver = unit:", 2, "rule server"),
    ])
    func badValuesAreRefusedAtTheirLine(text: String, line: Int, words: String) {
        let (_, diagnostics) = Self.parse(text)
        let error = diagnostics.first { $0.severity == .error }
        #expect(error?.location.line == line, "\(diagnostics)")
        #expect(error?.description.contains(words) == true, "\(String(describing: error?.description))")
    }

    /// Which cgroups the map holds, for `matching` and `all`: the first rule wins; a cgroup
    /// below one selected with the same profile is covered by it, not listed; a user's cgroup
    /// named like a system unit is never that unit.
    @Test(arguments: [
        ("matching", ["server = unit:legacy-app.service"], [3: "server"]),
        ("matching", ["server = unit:legacy-app.service unit:worker@*.service", "cloud = podman:frontend-*"],
         [3: "server", 5: "server", 7: "cloud"]),
        ("matching", ["cloud = cgroup:/system.slice/legacy-app.service/*", "server = unit:legacy-app.service"],
         [3: "server", 4: "cloud"]),
        ("matching", ["server = user-unit:1000/legacy-app.service"], [6: "server"]),
        ("matching", ["server = unit:user@1000.service"], [6: "server"]),
        ("matching", ["server = cgroup:/system.slice/*"], [3: "server", 5: "server", 8: "server"]),
        ("all", ["server = unit:nginx.service"], [1: "default", 8: "server"]),
        ("all", ["default = unit:nginx.service"], [1: "default"]),
        ("none", ["server = unit:nginx.service"], [:]),
    ] as [(String, [String], [UInt64: String])])
    func theMapHoldsTheSelectedWorkloads(reach: String, rules: [String], expected: [UInt64: String]) {
        let (config, diagnostics) = Self.parse("[sockets]\nkeepalive = \(reach)\n[sockets.rules]\n" + rules.joined(separator: "\n"))
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let assigned = config.socketRules.assignments(Self.tree, root: (CgroupID(1), "/"), daemonProfile: Self.fallback)
        #expect(Dictionary(uniqueKeysWithValues: assigned.map { ($0.id.rawValue, $0.profile.rawValue) }) == expected)
    }

    /// `unit:*` matches every cgroup of a unit, sub-cgroups too: each unit is listed once, by
    /// its top cgroup, in path order; what is below it is covered through that entry.
    @Test func aMatchingCgroupUnderASelectedOneIsCoveredNotListed() {
        var rules = SocketRules()
        rules.reach = .matching
        rules.rules = [.init(profile: Self.server, selectors: [try! NamespaceSelector.parse("unit:*").get()], location: SourceLocation(file: "x", line: 1))]
        let assigned = rules.assignments(Self.tree, root: (CgroupID(1), "/"), daemonProfile: Self.fallback)
        #expect(assigned.map(\.id.rawValue) == [3, 8, 5, 6], "4 is under 3; user@1000.service's cgroup counts as that system unit")
    }

    /// Profiles the rules name must resolve: they are among those the policy resolves.
    @Test func theRulesProfilesAreNamedForResolution() {
        let (config, _) = Self.parse("[sockets]\nkeepalive = all\nprofile = cloud\n[sockets.rules]\nserver = unit:a.service\n")
        #expect(config.socketRules.namedProfiles.map(\.0) == [Self.server])
        #expect(config.socketsProfile?.value == Self.cloud)
    }
}

import KeepaliveModel
import Testing

/// The pure half of `[namespaces]`: selectors, the rules' verdict, what cgroup paths and
/// mount tables say, read from tables of cases.
@Suite("Namespace rules and identities")
struct NamespaceRulesTests {
    static let location = SourceLocation(file: "/etc/keepalived-tune/keepalived-tune.conf", line: 12)

    func rules(_ reach: NamespaceRules.Reach, _ lines: [(String, String)], exclude: String = "",
               fallback: String? = nil) -> NamespaceRules {
        var rules = NamespaceRules()
        rules.reach = reach
        rules.fallback = fallback.flatMap(ProfileName.init)
        rules.exclude = try! NamespaceSelector.parseList(exclude).get()
        rules.rules = lines.enumerated().map { index, line in
            NamespaceRules.Rule(profile: ProfileName(line.0)!, selectors: try! NamespaceSelector.parseList(line.1).get(),
                                location: SourceLocation(file: "/c.conf", line: index + 1))
        }
        return rules
    }

    func identity(_ inode: UInt64 = 4026532500, netns: [String] = [], podman: String? = nil, docker: String? = nil,
                  pod: String? = nil, cgroup: String? = nil) -> NamespaceIdentity {
        var identity = NamespaceIdentity(inode: inode)
        identity.netnsNames = netns
        if let podman { identity.containers.append(ContainerRecord(runtime: .podman, id: String(repeating: "a", count: 64), name: podman)) }
        if let docker { identity.containers.append(ContainerRecord(runtime: .docker, id: String(repeating: "b", count: 64), name: docker)) }
        identity.pod = pod
        if let cgroup { identity.add(cgroup: cgroup) }
        return identity
    }

    @Test(arguments: [
        ("netns:vpn-*", true), ("podman:frontend-?", true), ("docker:nginx-[0-9]", true), ("nspawn:web", true),
        ("k8s:shop/*", true), ("unit:app.service", true), ("cgroup:/system.slice/*", true),
        ("kubernetes:shop/*", false), ("vpn-*", false), ("netns:vpn-[ab", false), ("netns:", false),
    ])
    func selectorsParse(text: String, valid: Bool) {
        #expect(((try? NamespaceSelector.parse(text).get()) != nil) == valid)
    }

    @Test func anUnknownKindIsNamedWithTheClosestOne() throws {
        guard case .failure(let problem) = NamespaceSelector.parse("podmann:web") else { Issue.record("accepted"); return }
        #expect(problem.description.contains("unknown selector kind 'podmann'"))
        #expect(problem.description.contains("did you mean 'podman'"))
    }

    @Test func eachKindMatchesItsOwnNamesOnly() throws {
        let pod = identity(netns: ["cni-1234"], podman: "frontend-1", pod: "shop/cart-7d9",
                           cgroup: "/system.slice/machine-web\\x2d1.scope/payload")
        let cases: [(String, Bool)] = [
            ("netns:cni-*", true), ("netns:frontend-*", false),
            ("podman:frontend-*", true), ("docker:frontend-*", false),
            ("k8s:shop/*", true), ("k8s:cart-7d9", false),
            ("nspawn:web-1", true), ("unit:machine-web*.scope", true),
            ("cgroup:/system.slice/*", true), ("cgroup:/user.slice/*", false),
        ]
        for (text, expected) in cases {
            #expect(try NamespaceSelector.parse(text).get().matches(pod) == expected, "\(text)")
        }
    }

    @Test func theFirstMatchingRuleInFileOrderWins() {
        let rules = rules(.matching, [("nat", "netns:vpn-*"), ("web", "netns:* podman:frontend-*")])
        #expect(rules.decide(identity(netns: ["vpn-a"]), daemonProfile: ProfileName("server")!).profile?.rawValue == "nat")
        #expect(rules.decide(identity(netns: ["blue"]), daemonProfile: ProfileName("server")!).profile?.rawValue == "web")
        let decision = rules.decide(identity(netns: ["vpn-a"]), daemonProfile: ProfileName("server")!)
        #expect(decision.reason == "rule nat = netns:vpn-* at /c.conf:1")
    }

    @Test func reachDecidesWhatNoRuleMatches() {
        let server = ProfileName("server")!
        let stray = identity(netns: ["stray"])
        #expect(rules(.none, [("web", "netns:*")]).decide(stray, daemonProfile: server).profile == nil)
        #expect(rules(.matching, [("web", "netns:x")]).decide(stray, daemonProfile: server).profile == nil)
        #expect(rules(.all, [("web", "netns:x")]).decide(stray, daemonProfile: server).profile == server)
        #expect(rules(.all, [], fallback: "nat").decide(stray, daemonProfile: server).profile?.rawValue == "nat")
    }

    @Test func anExcludedNamespaceIsNeverManagedEvenUnderAll() {
        let rules = rules(.all, [("web", "netns:ci-*")], exclude: "netns:ci-*")
        let decision = rules.decide(identity(netns: ["ci-7"]), daemonProfile: ProfileName("server")!)
        #expect(decision.profile == nil)
        #expect(decision.reason == "excluded by exclude = netns:ci-*")
    }

    @Test func theDaemonsOwnNamespaceAlwaysKeepsTheDaemonProfile() {
        var own = identity(netns: ["ci-1"])
        own.isOwn = true
        let rules = rules(.all, [("web", "netns:*")], exclude: "netns:*")
        #expect(rules.decide(own, daemonProfile: ProfileName("server")!).profile?.rawValue == "server")
    }

    @Test func explicitValuesAreKeptOrOverridden() {
        var container = identity(podman: "db")
        container.containers[0].sysctls = [.time: 600]
        var rules = rules(.matching, [("web", "podman:*")])
        #expect(rules.keptKeys(container) == [.time: 600])
        rules.explicitValues = .override
        #expect(rules.keptKeys(container).isEmpty)
    }

    @Test(arguments: [
        ("/libpod_parent/libpod-" + String(repeating: "1", count: 64), "podman"),
        ("/machine.slice/libpod-" + String(repeating: "2", count: 64) + ".scope/container", "podman"),
        ("/system.slice/docker-" + String(repeating: "3", count: 64) + ".scope", "docker"),
        ("/docker/" + String(repeating: "4", count: 64), "docker"),
        ("/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + String(repeating: "5", count: 64) + ".scope", "containerd"),
        ("/kubepods.slice/kubepods-pod1.slice/crio-" + String(repeating: "6", count: 64) + ".scope", "cri-o"),
    ])
    func containerIDsComeFromCgroupPaths(path: String, runtime: String) {
        let found = CgroupUnit.container(ofPath: path)
        #expect(found?.runtime?.rawValue == runtime)
        #expect(found?.id.count == 64)
    }

    @Test func conmonAndOrdinaryUnitsAreNotContainers() {
        #expect(CgroupUnit.container(ofPath: "/libpod_parent/conmon") == nil)
        #expect(CgroupUnit.container(ofPath: "/system.slice/nginx.service") == nil)
        #expect(CgroupUnit.placement(ofPath: "/machine.slice/machine-web\\x2d1.scope").machine == "web-1")
    }

    @Test func pinsComeFromNsfsMountsOnly() {
        let mountinfo = """
            22 1 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw
            48 22 0:4 net:[4026532179] /run/netns/netns-96bd rw shared:2 - nsfs nsfs rw
            49 22 0:4 net:[4026532180] /var/run/docker/netns/1a2b3c rw - nsfs nsfs rw
            50 22 0:4 mnt:[4026532181] /run/mnt-pin rw - nsfs nsfs rw
            51 22 0:4 net:[4026532182] /run/netns/with\\040space rw - nsfs nsfs rw
            """
        let pins = MountTable.networkPins(mountinfo)
        #expect(pins.map(\.inode) == [4026532179, 4026532180, 4026532182])
        #expect(pins.map(\.path) == ["/run/netns/netns-96bd", "/run/docker/netns/1a2b3c", "/run/netns/with space"])
        #expect(MountTable.netnsName(pins[0].path) == "netns-96bd")
        #expect(MountTable.isRuntimePin(pins[0].path) && MountTable.isRuntimePin(pins[1].path))
        #expect(!MountTable.isRuntimePin("/run/netns/vpn-a"))
    }

    @Test func theLabelIsTheMostSpecificName() {
        #expect(identity(netns: ["cni-1"], podman: "web", pod: "shop/cart").label == ("k8s", "shop/cart"))
        #expect(identity(netns: ["netns-1"], podman: "web").label == ("podman", "web"))
        #expect(identity(netns: ["vpn-a"]).label == ("netns", "vpn-a"))
        #expect(identity(cgroup: "/system.slice/app.service").label == ("unit", "app.service"))
        #expect(identity().label == ("unknown", ""))
    }

    @Test func journalFieldsNameTheNamespace() {
        let fields = identity(4026532501, netns: ["netns-1"], podman: "web").journalFields
        #expect(fields == ["NETNS": "4026532501", "NETNS_NAME": "netns-1", "CONTAINER": "web"])
    }
}

@Suite("The namespaces config")
struct NamespacesConfigTests {
    func parse(_ text: String) -> (DaemonConfig, [Diagnostic]) {
        DaemonConfig.parse([SourceText(path: "/c.conf", text: text)])
    }

    @Test func offByDefault() {
        let (config, diagnostics) = parse("")
        #expect(diagnostics.isEmpty)
        #expect(config.namespaceRules.reach == .none && config.rescanIntervalSeconds == 30)
    }

    @Test func theIssuesExampleParses() {
        let (config, diagnostics) = parse("""
            [namespaces]
            manage = matching
            profile = server
            explicit-values = keep
            exclude = netns:ci-*
            rescan-interval = 10s

            [namespaces.rules]
            web = podman:frontend-* docker:nginx-* k8s:shop/*
            nat = netns:vpn-*
            """)
        #expect(diagnostics.isEmpty)
        let rules = config.namespaceRules
        #expect(rules.reach == .matching && rules.fallback?.rawValue == "server" && rules.explicitValues == .keep)
        #expect(rules.exclude.map(\.description) == ["netns:ci-*"])
        #expect(rules.rules.map(\.text) == ["web = podman:frontend-* docker:nginx-* k8s:shop/*", "nat = netns:vpn-*"])
        #expect(rules.rules.map { $0.location.line } == [9, 10])
        #expect(config.rescanIntervalSeconds == 10)
    }

    @Test func aProfileNamedTwiceKeepsItsPlaceWithAWarning() {
        let (config, diagnostics) = parse("""
            [namespaces.rules]
            web = netns:a
            nat = netns:b
            web = netns:c
            """)
        #expect(config.namespaceRules.rules.map(\.text) == ["web = netns:c", "nat = netns:b"])
        #expect(diagnostics.map(\.code) == [.duplicateKey])
    }

    @Test(arguments: [
        ("[namespaces]\nmanage = some", Diagnostic.Code.invalidChoice, "manage = some is not valid"),
        ("[namespaces]\nexclude = ci-*", .invalidChoice, "has no kind"),
        ("[namespaces]\nrescan-interval = 0", .outOfRange, "rescan-interval = 0 is out of range"),
        ("[namespaces.rules]\nweb = docker:[x", .invalidChoice, "is not a valid glob"),
        ("[namespaces.rules]\n../web = netns:a", .invalidProfileName, "must start with a letter or digit"),
        ("[namespaces]\nmanag = all", .unknownKey, "did you mean 'manage'"),
    ])
    func badValuesAreErrorsWithTheirLine(text: String, code: Diagnostic.Code, message: String) {
        let (_, diagnostics) = parse(text)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.code == code)
        #expect(diagnostics.first?.location.line == 2)
        #expect(diagnostics.first?.message.contains(message) == true, "\(diagnostics)")
    }
}

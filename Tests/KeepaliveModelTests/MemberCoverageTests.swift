import KeepaliveModel
import Testing

/// A namespace whose member processes were not all read is left alone when an `exclude` or a
/// rule is judged by members (issue 32, finding 5): the rules never decide on part of them.
@Suite("Rules and unread members")
struct MemberCoverageTests {
    static let server = ProfileName("server")!

    func rules(_ reach: NamespaceRules.Reach, rule: String, exclude: String = "") -> NamespaceRules {
        var rules = NamespaceRules()
        rules.reach = reach
        rules.exclude = try! NamespaceSelector.parseList(exclude).get()
        rules.rules = [NamespaceRules.Rule(profile: ProfileName("web")!, selectors: try! NamespaceSelector.parseList(rule).get(),
                                           location: SourceLocation(file: "/c.conf", line: 4))]
        return rules
    }

    func namespace(_ coverage: MemberCoverage, cgroups: [String] = ["/system.slice/app.service"]) -> NamespaceIdentity {
        var identity = NamespaceIdentity(inode: 4026532700)
        identity.netnsNames = ["vpn-a"]
        for path in cgroups { identity.add(cgroup: path) }
        identity.coverage = coverage
        return identity
    }

    /// Reach, rule, exclude, coverage, the profile decided.
    @Test(arguments: [
        (NamespaceRules.Reach.all, "netns:vpn-*", "unit:critical.service", MemberCoverage.complete, "web"),
        (.all, "netns:vpn-*", "unit:critical.service", .partial("the cgroup of PID 7 could not be read"), nil),
        (.all, "netns:vpn-*", "unit:critical.service", .unread, nil),
        (.all, "netns:other", "cgroup:/system.slice/critical*", .partial("x"), nil),
        (.matching, "unit:app.service", "", .partial("x"), nil),
        (.matching, "nspawn:web", "", .unread, nil),
        (.matching, "user-unit:*/x.service", "", .unread, nil),
        // Nothing judged by members: pins and runtimes decide as before.
        (.all, "netns:vpn-*", "netns:ci-*", .unread, "web"),
        (.matching, "netns:vpn-*", "podman:db", .partial("x"), "web"),
    ] as [(NamespaceRules.Reach, String, String, MemberCoverage, String?)])
    func unreadMembersLeaveANamespaceAloneWhenMembersAreJudged(reach: NamespaceRules.Reach, rule: String, exclude: String,
                                                               coverage: MemberCoverage, profile: String?) {
        let decision = rules(reach, rule: rule, exclude: exclude).decide(namespace(coverage), daemonProfile: Self.server)
        #expect(decision.profile?.rawValue == profile, "\(decision)")
    }

    @Test func theReasonSaysWhatWasNotRead() {
        let decision = rules(.all, rule: "netns:vpn-*", exclude: "unit:critical.service")
            .decide(namespace(.partial("the cgroup of PID 7 could not be read")), daemonProfile: Self.server)
        #expect(decision.reason == "left alone: its member processes could not all be read (the cgroup of PID 7 could not be read), "
                + "and unit:critical.service is judged by every member")
    }

    @Test func anExclusionSeenInPartOfTheMembersStillExcludes() {
        let partial = namespace(.partial("x"), cgroups: ["/system.slice/app.service", "/system.slice/critical.service"])
        let decision = rules(.all, rule: "netns:vpn-*", exclude: "unit:critical.service").decide(partial, daemonProfile: Self.server)
        #expect(decision.reason == "excluded by exclude = unit:critical.service")
    }

    @Test func theDaemonsOwnNamespaceIsItsOwnWhateverIsRead() {
        var own = namespace(.unread)
        own.isOwn = true
        #expect(rules(.all, rule: "unit:*", exclude: "unit:*").decide(own, daemonProfile: Self.server).profile == Self.server)
    }
}

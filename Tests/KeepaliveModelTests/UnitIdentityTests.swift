import KeepaliveModel
import Testing

/// Which unit a cgroup path is, read where systemd puts things: the system manager's unit is
/// the first below the root slices, a user's units are its own, and nothing below a delegation
/// point names a system unit or a container (issue 32, finding 4). Real layouts, as tables.
private let id1 = String(repeating: "1", count: 64), id2 = String(repeating: "2", count: 64)
/// User 1000's manager, where its units live.
private let user = "/user.slice/user-1000.slice/user@1000.service"

@Suite("Units from cgroup paths")
struct UnitIdentityTests {

    /// Path, the unit as shown (system, or `user-unit:UID/NAME`), the system unit, the container id's first digit.
    @Test(arguments: [
        ("/system.slice/nginx.service", "nginx.service", "nginx.service", nil),
        ("/system.slice/app.service/worker", "app.service", "app.service", nil),
        ("/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", "getty@tty1.service", nil),
        ("/init.scope", "init.scope", "init.scope", nil),
        ("/user.slice/user-1000.slice/session-2.scope", "session-2.scope", "session-2.scope", nil),
        // What `systemd-run --user --unit legacy-app` makes: the user's unit, never the system's.
        (user + "/app.slice/legacy-app.service", "user-unit:1000/legacy-app.service", "user@1000.service", nil),
        (user + "/legacy-app.service", "user-unit:1000/legacy-app.service", "user@1000.service", nil),
        (user + "/init.scope", "user-unit:1000/init.scope", "user@1000.service", nil),
        (user + "/app.slice/app-gnome-firefox-4242.scope", "user-unit:1000/app-gnome-firefox-4242.scope", "user@1000.service", nil),
        (user + "/app.slice/legacy-app.service/sub/system.slice/critical.service", "user-unit:1000/legacy-app.service", "user@1000.service", nil),
        // A user may name its cgroups anything, a manager of another UID included.
        (user + "/app.slice/user@0.service/critical.service", "user-unit:1000/user@0.service", "user@1000.service", nil),
        (user + "/mine/system.slice/critical.service", "user@1000.service", "user@1000.service", nil),
        // A rootless container is the user's unit, and no container of the host's runtimes.
        (user + "/user.slice/libpod-\(id1).scope", "user-unit:1000/libpod-\(id1).scope", "user@1000.service", nil),
        // A Delegate=yes service's own cgroups are that service's.
        ("/system.slice/podhost.service/payload.slice/critical.service", "podhost.service", "podhost.service", nil),
        ("/system.slice/user@1000.service", "user@1000.service", "user@1000.service", nil),
        ("/machine.slice/machine-web\\x2d1.scope/payload/system.slice/critical.service", "machine-web\\x2d1.scope", "machine-web\\x2d1.scope", nil),
        ("/machine.slice/libpod-\(id1).scope/container", "libpod-\(id1).scope", "libpod-\(id1).scope", "1"),
        ("/machine.slice/libpod-\(id1).scope/container/libpod-\(id2).scope", "libpod-\(id1).scope", "libpod-\(id1).scope", "1"),
        ("/system.slice/docker-\(id1).scope", "docker-\(id1).scope", "docker-\(id1).scope", "1"),
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-\(id2).scope",
         "cri-containerd-\(id2).scope", "cri-containerd-\(id2).scope", "2"),
        // cgroupfs layouts (no systemd as the runtime's driver): a container, no unit.
        ("/kubepods/burstable/pod1/\(id1)", nil, nil, "1"),
        ("/docker/\(id1)/system.slice/critical.service", nil, nil, "1"),
        ("/docker/\(id1)/docker/\(id2)", nil, nil, "1"),
        ("/libpod_parent/libpod-\(id2)", nil, nil, "2"),
        ("/lxc.payload.c1/system.slice/critical.service", nil, nil, nil),
        ("/", nil, nil, nil),
    ] as [(String, String?, String?, String?)])
    func theUnitIsTheFirstBelowTheRootSlices(path: String, shown: String?, system: String?, container: String?) {
        let placement = CgroupUnit.placement(ofPath: path)
        #expect(placement.unit?.description == shown, "\(path)")
        #expect(placement.unit?.system == system, "\(path)")
        #expect(placement.container.map { String($0.id.prefix(1)) } == container, "\(path)")
        #expect(placement.unverified == nil)
    }

    @Test func nspawnMachinesComeFromTheSystemUnitOnly() {
        #expect(CgroupUnit.placement(ofPath: "/machine.slice/machine-web\\x2d1.scope/payload").machine == "web-1")
        #expect(CgroupUnit.placement(ofPath: "/machine.slice/systemd-nspawn@db.service/payload").machine == "db")
        #expect(CgroupUnit.placement(ofPath: user + "/app.slice/machine-web.scope").machine == nil, "a user's scope of that name")
        #expect(CgroupUnit.placement(ofPath: "/system.slice/podhost.service/machine-web.scope").machine == nil)
    }

    /// `delegated` stands for the cgroups someone other than root may add to.
    @Test(arguments: [
        ("/delegated.slice/critical.service", ["/delegated.slice"], nil, nil),
        ("/system.slice/podhost.service/critical.service", ["/system.slice/podhost.service"], "podhost.service", nil),
        ("/docker/\(id1)", ["/docker"], nil, nil),
        ("/kubepods/burstable/pod1/\(id1)", ["/kubepods/burstable"], nil, nil),
        ("/system.slice/nginx.service", ["/user.slice"], "nginx.service", nil),
        ("/system.slice/docker-\(id1).scope", ["/system.slice/docker-\(id1).scope"], "docker-\(id1).scope", "1"),
    ] as [(String, [String], String?, String?)])
    func nothingBelowADelegationPointIsRoots(path: String, delegated: [String], shown: String?, container: String?) {
        let placement = CgroupUnit.placement(ofPath: path) { delegated.contains($0) }
        #expect(placement.unit?.description == shown, "\(path)")
        #expect(placement.container.map { String($0.id.prefix(1)) } == container, "\(path)")
    }

    @Test func anOwnerThatCannotBeReadOrAPathOutsideTheNamespaceIsUnverified() {
        let unread = CgroupUnit.placement(ofPath: "/system.slice/critical.service") { $0 == "/system.slice" ? nil : false }
        #expect(unread.unit == nil && unread.unverified == "the owner of cgroup /system.slice could not be read")
        let outside = CgroupUnit.placement(ofPath: "/../../system.slice/critical.service")
        #expect(outside.unit == nil && outside.unverified != nil)
        #expect(CgroupUnit.path("0::/system.slice/app.service (deleted)\n") == "/system.slice/app.service")
    }

    static let legacy = UnitIdentity.system("legacy-app.service")
    static let usersLegacy = CgroupUnit.placement(ofPath: user + "/app.slice/legacy-app.service").unit

    /// Selector, matches the system unit `legacy-app.service`, matches user 1000's `legacy-app.service`.
    @Test(arguments: [
        ("legacy-app.service", true, false), ("unit:legacy-app.service", true, false), ("*", true, true), ("legacy-*", true, false),
        ("user@1000.service", false, true), ("user@*.service", false, true),
        ("user-unit:1000/legacy-app.service", false, true), ("user-unit:*/legacy-app.service", false, true),
        ("user-unit:1001/legacy-app.service", false, false), ("user-unit:1000/*", false, true),
    ])
    func unitSelectorsKeepSystemAndUsersApart(text: String, system: Bool, user: Bool) throws {
        let selector = try UnitSelector.parse(text).get()
        #expect(selector.matches(Self.legacy) == system, "\(text)")
        #expect(selector.matches(Self.usersLegacy) == user, "\(text)")
        #expect(!selector.matches(nil))
    }

    @Test(arguments: [
        ("user-unit:1000", "no '/' between the user and the unit"), ("user-unit:alice/app.service", "'alice' is not a UID"),
        ("user-unit:/app.service", "'' is not a UID"), ("user-unit:1000/", "no unit after the '/'"),
        ("user-unit:99999999999/app.service", "is not a UID"), ("user-unit:1000/a/b.service", "a unit name has no '/'"),
        ("user-unit:1000/[x", "'[' is never closed"), ("1000/legacy-app.service", "a user's unit is written user-unit:UID/UNIT"),
        ("user:1000/legacy-app.service", "a user's unit is written user-unit:UID/UNIT"), ("worker@[1-3.service", "'[' is never closed"),
    ])
    func malformedUnitSelectorsSayWhy(text: String, problem: String) {
        guard case .failure(let failure) = UnitSelector.parse(text) else { Issue.record("\(text) accepted"); return }
        #expect(failure.description.contains(problem), "\(failure)")
    }

    func namespace(_ paths: [String]) -> NamespaceIdentity {
        var identity = NamespaceIdentity(inode: 4026532600)
        for path in paths { identity.add(cgroup: path) }
        return identity
    }

    @Test func aUsersUnitNeverMatchesUnitSelectorsOfItsName() throws {
        let users = namespace([user + "/app.slice/legacy-app.service"])
        #expect(users.units == ["user@1000.service"] && users.userUnits == ["1000/legacy-app.service"])
        #expect(try !NamespaceSelector.parse("unit:legacy-app.service").get().matches(users))
        #expect(try !NamespaceSelector.parse("unit:*legacy-app.service").get().matches(users))
        #expect(try NamespaceSelector.parse("user-unit:1000/legacy-app.service").get().matches(users))
        #expect(try NamespaceSelector.parse("unit:user@1000.service").get().matches(users))
        #expect(users.label == ("user-unit", "1000/legacy-app.service"))
        #expect(users.journalFields["USER_UNIT"] == "1000/legacy-app.service" && users.journalFields["UNIT"] == "user@1000.service")
        let system = namespace(["/system.slice/legacy-app.service"])
        #expect(try NamespaceSelector.parse("unit:legacy-app.service").get().matches(system))
        #expect(try !NamespaceSelector.parse("user-unit:*/legacy-app.service").get().matches(system))
        #expect(system.label == ("unit", "legacy-app.service"))
    }

    /// `cgroup:` matches the kernel's path as written: anchored at a root slice, no user's
    /// cgroup matches it; a glob open at the front can be matched by a user's (SECURITY.md).
    @Test func cgroupSelectorsMatchThePathAsWritten() throws {
        let users = namespace([user + "/app.slice/critical.service"])
        #expect(try !NamespaceSelector.parse("cgroup:/system.slice/critical.service*").get().matches(users))
        #expect(try NamespaceSelector.parse("cgroup:*/critical.service").get().matches(users))
    }

    @Test func selectorsOfUnitsAreCheckedLikeTheOthers() {
        guard case .failure(let problem) = NamespaceSelector.parse("user-unit:me/app.service") else { Issue.record("accepted"); return }
        #expect(problem.description.contains("'me' is not a UID"))
        guard case .failure(let slash) = NamespaceSelector.parse("unit:1000/app.service") else { Issue.record("accepted"); return }
        #expect(slash.description.contains("user-unit:UID/UNIT"))
    }

    /// The daemon's sweep: `enable-keepalive = legacy-app.service` gives keepalive to the
    /// system unit's sockets, never to a user's unit of that name.
    @Test func theSweepNeverReachesAUsersUnitOfTheSameName() throws {
        func socket(_ inode: UInt64, _ port: Int) -> DiagSocket {
            var record = SocketRecord(state: .established, inode: inode, keepalive: .socket(on: false))
            record.idleMilliseconds = 600_000
            return DiagSocket(local: "10.0.0.1:\(port)", remote: "10.0.0.2:5000", record: record)
        }
        let input = AuditInput(sockets: [socket(11, 80), socket(12, 81)],
                               holders: [11: [SocketHolder(pid: 100, fd: 4)], 12: [SocketHolder(pid: 200, fd: 4)]],
                               processes: [100: HolderProcess(pid: 100, command: "app", unit: Self.legacy),
                                           200: HolderProcess(pid: 200, command: "app", unit: Self.usersLegacy)])
        let audit = ConnectionAudit(input)
        #expect(audit.connections.map(\.unit) == ["legacy-app.service", "user-unit:1000/legacy-app.service"])
        let (config, diagnostics) = DaemonConfig.parse([SourceText(path: "/c.conf", text: "[connections]\nenable-keepalive = legacy-app.service\n")])
        #expect(diagnostics.isEmpty)
        var filter = ConnectionFilter()
        filter.units = config.keepaliveUnits
        let plan = RetrofitPlan(audit: audit, listeners: [], holders: input.holders, filter: filter)
        #expect(plan.targets.map(\.socket.record.inode) == [11])
        filter.units = try [UnitSelector.parse("user-unit:1000/legacy-app.service").get()]
        #expect(RetrofitPlan(audit: audit, listeners: [], holders: input.holders, filter: filter).targets.map(\.socket.record.inode) == [12])
    }

    @Test(arguments: [
        ("[connections]\nenable-keepalive = app.service user-unit:bob/app.service", "enable-keepalive: user-unit:bob/app.service: 'bob' is not a UID"),
        ("[connections]\nenable-keepalive = 1000/app.service", "a user's unit is written user-unit:UID/UNIT"),
        ("[namespaces]\nexclude = user-unit:1000", "no '/' between the user and the unit"),
        ("[namespaces.rules]\nweb = user-unit:1000/", "no unit after the '/'"),
    ])
    func malformedUnitsInTheConfigAreErrorsWithTheirLine(text: String, message: String) {
        let (_, diagnostics) = DaemonConfig.parse([SourceText(path: "/c.conf", text: text)])
        #expect(diagnostics.map(\.code) == [.invalidChoice])
        #expect(diagnostics.first?.location == SourceLocation(file: "/c.conf", line: 2))
        #expect(diagnostics.first?.message.contains(message) == true, "\(diagnostics)")
    }
}

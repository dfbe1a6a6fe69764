import KeepaliveModel
import Testing

/// The connections audit's join, summary, filters and advice, and the retrofit plan: what is
/// selected, and what is never touched. Pure, in microseconds.
@Suite("Connections audit (pure)")
struct ConnectionAuditTests {
    static let server = HolderProcess(pid: 31091, command: "server", unit: .system("app.service"))
    static let worker = HolderProcess(pid: 400, command: "worker", unit: .system("worker@1.service"))

    /// A socket with `state`, inode and ports, keepalive as the timer shows it.
    static func socket(_ state: SocketRecord.State, inode: UInt64, local: String = "10.0.0.1:80", remote: String = "10.0.0.2:5000",
                       timer: SocketRecord.Timer = .none, idle: Int? = 600_000, cgroup: UInt64? = nil) -> DiagSocket {
        var record = SocketRecord(state: state, timer: timer, inode: inode, idleMilliseconds: idle)
        record.keepalive = record.inferredKeepalive
        return DiagSocket(local: local, remote: remote, cgroupID: cgroup, record: record)
    }

    static var input: AuditInput {
        AuditInput(
            sockets: [
                socket(.listen, inode: 10, remote: "0.0.0.0:0"),
                socket(.established, inode: 11),
                socket(.established, inode: 12, remote: "10.0.0.3:5001"),
                socket(.established, inode: 13, timer: .keepalive),
                socket(.closeWait, inode: 14),
                socket(.timeWait, inode: 0, timer: .timeWait, idle: nil),
                socket(.established, inode: 20, local: "10.0.0.1:9000", remote: "10.0.0.9:443"),
                socket(.established, inode: 30, local: "10.0.0.1:7000", remote: "10.0.0.8:6000", cgroup: 77),
            ],
            holders: [10: [.init(pid: 31091, fd: 3)], 11: [.init(pid: 31091, fd: 4)], 12: [.init(pid: 31091, fd: 5), .init(pid: 31092, fd: 5)],
                      13: [.init(pid: 31091, fd: 6)], 14: [.init(pid: 31091, fd: 7)], 20: [.init(pid: 400, fd: 9)]],
            processes: [31091: server, 400: worker, 31092: HolderProcess(pid: 31092, command: "server", unit: .system("app.service"))],
            unitsByCgroupID: [77: .system("hidden.service")],
            exact: [20: ExactKeepalive(on: true, options: .init(idle: 60))],
            sysctls: ReapingSysctls(keepalive: KeepaliveValues(time: 2, intvl: 1, probes: 2)))
    }

    @Test func everyConnectionIsJoinedWithItsHoldersAndJudged() throws {
        let audit = ConnectionAudit(Self.input)
        #expect(audit.connections.count == 7, "the listener is left out")
        let plain = try #require(audit.connections.first { $0.socket.record.inode == 11 })
        #expect(plain.pids == [31091] && plain.command == "server" && plain.unit == "app.service")
        #expect(plain.keepalive == "off" && plain.keepaliveSource == .inferred && plain.verdict.reapedBy == .never)
        #expect(plain.lacksKeepalive)
        let shared = try #require(audit.connections.first { $0.socket.record.inode == 12 })
        #expect(shared.pids == [31091, 31092])
        let exact = try #require(audit.connections.first { $0.socket.record.inode == 20 })
        #expect(exact.keepalive == "on" && exact.keepaliveSource == .socket && exact.verdict.reapedBy == .keepalive)
        #expect(exact.verdict.withinSeconds == 0, "idle 600 s already past its own 60 + 1 × 2 s")
        let hidden = try #require(audit.connections.first { $0.socket.record.inode == 30 })
        #expect(hidden.pids.isEmpty && hidden.unit == "hidden.service", "the unit of the socket's cgroup when no holder is seen")
        let closeWait = try #require(audit.connections.first { $0.socket.record.state == .closeWait })
        #expect(closeWait.neverReaped && !closeWait.lacksKeepalive, "keepalive would not make the application close it")
    }

    @Test func theSummaryCountsByProcessAndSaysWhatToDo() throws {
        let audit = ConnectionAudit(Self.input)
        let summary = ConnectionAudit.summary(audit.connections, processes: audit.processes)
        let server = try #require(summary.first)
        #expect(server.pid == 31091 && server.command == "server" && server.unit == "app.service")
        #expect(server.connections == 4 && server.byState == [.established: 3, .closeWait: 1])
        #expect(server.withoutKeepalive == 3 && server.neverReaped == 3 && server.fixable == 2 && server.oldestIdleSeconds == 600)
        #expect(summary.contains { $0.pid == 31092 && $0.connections == 1 }, "a socket held by two processes counts for each")
        #expect(summary.contains { $0.pid == nil && $0.unit == "hidden.service" && $0.connections == 1 })
        #expect(summary.contains { $0.pid == nil && $0.unit == nil && $0.byState == [.timeWait: 1] })
        #expect(ConnectionAudit.advice(summary)
            == "2 connections of server will never be reaped: give them keepalive with `keepalived-tune connections --enable-keepalive --pid 31091`")
    }

    @Test(arguments: [
        ("CLOSE-WAIT only", [SocketRecord.State.closeWait], "1 CLOSE-WAIT connection of server (PID 31091): the peer closed and the application has not"),
        ("nothing never-reaped", [.timeWait], "every connection will be reaped if its peer vanishes; nothing to do"),
    ])
    func theAdviceFitsWhatWasFound(name: String, states: [SocketRecord.State], prefix: String) {
        let audit = ConnectionAudit(Self.input)
        var filter = ConnectionFilter()
        filter.states = states
        let summary = ConnectionAudit.summary(audit.connections.filter(filter.matches), processes: audit.processes)
        #expect(ConnectionAudit.advice(summary).hasPrefix(prefix), "\(name)")
    }

    /// A filter built by `configure`.
    static func filter(_ configure: (inout ConnectionFilter) -> Void) -> ConnectionFilter {
        var filter = ConnectionFilter()
        configure(&filter)
        return filter
    }

    @Test(arguments: [
        ("pid", Self.filter { $0.pids = [400] }, [20]),
        ("second holder's pid", Self.filter { $0.pids = [31092] }, [12]),
        ("unit glob", Self.filter { $0.units = [.system(Glob("worker@*.service")!)] }, [20]),
        ("unit from the cgroup", Self.filter { $0.units = [.system(Glob("hidden*")!)] }, [30]),
        ("local or remote port", Self.filter { $0.ports = [5001, 443] }, [12, 20]),
        ("state", Self.filter { $0.states = [.closeWait] }, [14]),
        ("idle over", Self.filter { $0.idleOverSeconds = 599; $0.pids = [31091] }, [11, 12, 13, 14]),
        ("never reaped", Self.filter { $0.neverReaped = true }, [11, 12, 14, 30]),
        ("kinds narrow each other", Self.filter { $0.pids = [31091]; $0.neverReaped = true; $0.ports = [5000] }, [11, 14]),
    ] as [(String, ConnectionFilter, [UInt64])])
    func filtersSelect(name: String, filter: ConnectionFilter, inodes: [UInt64]) {
        let selected = ConnectionAudit(Self.input).connections.filter(filter.matches).map(\.socket.record.inode)
        #expect(selected.sorted() == inodes, "\(name)")
    }

    @Test(arguments: [("established", SocketRecord.State.established), ("ESTAB", .established), ("close-wait", .closeWait),
                      ("CLOSE_WAIT", .closeWait), ("time-wait", .timeWait), ("fin-wait-2", .finWait2), ("syn-recv", .synReceived)])
    func statesAreReadAsUsersWriteThem(text: String, state: SocketRecord.State) {
        #expect(ConnectionFilter.state(named: text) == state)
    }

    @Test func theRetrofitPlanTouchesOnlyWhatAFilterNames() {
        let audit = ConnectionAudit(Self.input)
        let listeners = Self.input.sockets.filter { $0.record.state == .listen }
        #expect(RetrofitPlan(audit: audit, listeners: listeners, holders: Self.input.holders, filter: ConnectionFilter()).targets.isEmpty,
                "never an unfiltered sweep")
        var byPID = ConnectionFilter()
        byPID.pids = [31091]
        let plan = RetrofitPlan(audit: audit, listeners: listeners, holders: Self.input.holders, filter: byPID)
        #expect(plan.targets.map(\.socket.record.inode) == [10, 11, 12, 14],
                "the listener, the idle connections without keepalive and the CLOSE-WAIT; not the one that has keepalive (13)")
        #expect(plan.targets.first?.isListener == true)
        var byPort = ConnectionFilter()
        byPort.ports = [9000]
        #expect(RetrofitPlan(audit: audit, listeners: listeners, holders: Self.input.holders, filter: byPort).targets.isEmpty,
                "the worker's socket already has keepalive (read exactly)")
        var hidden = ConnectionFilter()
        hidden.units = [.system(Glob("hidden.service")!)]
        #expect(RetrofitPlan(audit: audit, listeners: listeners, holders: Self.input.holders, filter: hidden).targets.isEmpty,
                "no holder seen, nothing to duplicate")
    }

    /// Issue 32, finding 3: a socket two processes share (inode 12: 31091 listed first, then
    /// 31092) is reached only through the one the filter names.
    @Test func aSharedSocketIsReachedOnlyThroughTheHolderNamed() throws {
        let audit = ConnectionAudit(Self.input)
        var child = ConnectionFilter()
        child.pids = [31092]
        let plan = RetrofitPlan(audit: audit, listeners: [], holders: Self.input.holders, filter: child)
        let shared = try #require(plan.targets.first { $0.socket.record.inode == 12 })
        #expect(shared.holders == [SocketHolder(pid: 31092, fd: 5)], "never through 31091, which the filter does not name")
        #expect(plan.targets.map(\.socket.record.inode) == [12])
        var byPort = ConnectionFilter()
        byPort.ports = [5001]
        #expect(RetrofitPlan(audit: audit, listeners: [], holders: Self.input.holders, filter: byPort).targets.first?.holders.count == 2,
                "a port names no process: any holder will do")
    }

    @Test(arguments: [
        ("nginx.service", "nginx.service", true), ("worker@*.service", "worker@12.service", true), ("worker@*.service", "worker.service", false),
        ("*", "anything", true), ("a?c", "abc", true), ("a?c", "ac", false), ("[ab]x", "bx", true), ("[!ab]x", "bx", false),
        ("[a-c]*.scope", "b-1.scope", true), ("*frontend-*", "podman-frontend-1", true), ("*.service", "x.scope", false),
    ])
    func globsMatchAsTheShellDoes(pattern: String, text: String, matches: Bool) {
        #expect(Glob(pattern)?.matches(text) == matches)
    }

    @Test func malformedGlobsAreRefusedWithAReason() {
        #expect(Glob("[abc") == nil)
        #expect(Glob.problem(in: "[abc") == "'[' is never closed")
        #expect(Glob.problem(in: "") == "an empty pattern")
    }
}

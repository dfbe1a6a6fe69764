import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Keepalive at connection birth, with the real program on the real kernel: connections are
/// made by a Python server and client (Tests/Fixtures/bpf/sockets.py) in a private network
/// namespace, in cgroups under the test's own attach point (``BPFScene``), and read back
/// with getsockopt and `ss -tnoi`.
@Suite("Keepalive at connection birth (BPF sock_ops)", .serialized, BPFTestGate.trait)
struct KeepaliveHookTests {
    static let web = SocketPolicy(keepalive: KeepaliveValues(time: 20, intvl: 5, probes: 3), userTimeout: .auto)!
    static let cloud = SocketPolicy(keepalive: KeepaliveValues(time: 300, intvl: 15, probes: 4), userTimeout: .off)!

    /// What a connection of `policy`'s workload must read back on one end.
    static func given(_ policy: SocketPolicy) -> LoopbackSockets.Options {
        ["SO_KEEPALIVE": 1, "TCP_KEEPIDLE": policy.keepalive.time, "TCP_KEEPINTVL": policy.keepalive.intvl,
         "TCP_KEEPCNT": policy.keepalive.probes, "TCP_USER_TIMEOUT": Int(policy.userTimeoutMilliseconds)]
    }

    /// A connection the program left alone, in a namespace at the kernel's defaults.
    static let untouched: LoopbackSockets.Options =
        ["SO_KEEPALIVE": 0, "TCP_KEEPIDLE": 7200, "TCP_KEEPINTVL": 75, "TCP_KEEPCNT": 9, "TCP_USER_TIMEOUT": 0]

    /// The 702's server: never sets SO_KEEPALIVE, yet every accepted connection has the map's values.
    @Test func aServerThatNeverSetsKeepaliveGetsTheWorkloadsValues() throws {
        let scene = try BPFScene()
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [try scene.id(scene.web): Self.web])
        defer { try? hook.detach() }
        #expect(hook.attachment == .attached)
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        try sockets.listen("server")
        try scene.sandbox.move(sockets.pid, to: scene.outside)   // the client: no program runs for it
        var connections: [LoopbackSockets.Connection] = []
        for _ in 0..<3 { connections.append(try sockets.connect("server")) }
        for connection in connections {
            #expect(connection.accepted == Self.given(Self.web))
            #expect(connection.client == Self.untouched)
        }
        let ss = try sockets.socketStatistics()
        for connection in connections {
            let line = ss.split(separator: "\n").first { $0.contains("127.0.0.1:\(connection.ports[1]) ") && $0.contains(":\(connection.ports[0]) ") }
            #expect(line?.contains("timer:(keepalive,") == true, "ss -tnoi shows the keepalive timer on the accepted end: \(ss)")
        }
        #expect(hook.counters()[try scene.id(scene.web)] == SocketCounters(given: 3))
    }

    /// The application's own value of one option, and what the program must leave it as.
    static let ownChoices: [(String, Int)] = [("SO_KEEPALIVE", 1), ("TCP_KEEPIDLE", 600), ("TCP_KEEPINTVL", 7),
                                              ("TCP_KEEPCNT", 4), ("TCP_USER_TIMEOUT", 12_345)]

    /// Each of the five options, set by the application, keeps its value; the others are given.
    @Test(arguments: ownChoices)
    func anApplicationsOwnSettingStandsAndOnlyTheRestIsGiven(_ option: String, _ value: Int) throws {
        let scene = try BPFScene()
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [try scene.id(scene.web): Self.web])
        defer { try? hook.detach() }
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        try sockets.listen("server", options: [option: value])   // children inherit it
        let connection = try sockets.connect("server", options: [option: value])
        var expected = Self.given(Self.web)
        expected[option] = value
        #expect(connection.accepted == expected, "the accepted end (passive)")
        #expect(connection.client == expected, "the client end (active)")
        #expect(hook.counters()[try scene.id(scene.web)] == SocketCounters(given: 2))
    }

    /// An application that set all five is left alone, and counted so.
    @Test func anApplicationThatSetEverythingIsLeftAlone() throws {
        let scene = try BPFScene()
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [try scene.id(scene.web): Self.web])
        defer { try? hook.detach() }
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        let own = Dictionary(uniqueKeysWithValues: Self.ownChoices)
        try sockets.listen("server", options: own)
        let connection = try sockets.connect("server", options: own)
        #expect(connection.accepted == own)
        #expect(connection.client == own)
        #expect(hook.counters()[try scene.id(scene.web)] == SocketCounters(leftAlone: 2))
    }

    /// The workload is the socket's cgroup, not the task the kernel happens to run: over
    /// loopback the passive side is established in softirq while the client's connect()
    /// runs, so a lookup by `current` would find the client's cgroup.
    @Test func theSocketsCgroupDecidesNotTheCurrentTask() throws {
        let scene = try BPFScene()
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [try scene.id(scene.web): Self.web])
        defer { try? hook.detach() }
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.other)
        try sockets.listen("unselected")
        try scene.sandbox.move(sockets.pid, to: scene.web)
        try sockets.listen("selected")
        let intoUnselected = try sockets.connect("unselected")   // the client is in web
        #expect(intoUnselected.accepted == Self.untouched, "an unselected server's connection is untouched")
        #expect(intoUnselected.client == Self.given(Self.web), "the selected client's own end is given")
        try scene.sandbox.move(sockets.pid, to: scene.other)
        let intoSelected = try sockets.connect("selected")       // the client is in other
        #expect(intoSelected.accepted == Self.given(Self.web))
        #expect(intoSelected.client == Self.untouched)
        #expect(hook.counters() == [try scene.id(scene.web): SocketCounters(given: 2)], "nothing counted for other")
    }

    /// A sub-cgroup of a workload is that workload's, unless it has an entry of its own.
    @Test func aCgroupUnderAWorkloadIsCoveredByTheNearestEntry() throws {
        let scene = try BPFScene()
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [try scene.id(scene.web): Self.web])
        defer { try? hook.detach() }
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.worker)
        try sockets.listen("worker")
        try scene.sandbox.move(sockets.pid, to: scene.outside)
        #expect(try sockets.connect("worker").accepted == Self.given(Self.web), "web's sub-cgroup is web's")
        try hook.setWorkloads([try scene.id(scene.web): Self.web, try scene.id(scene.worker): Self.cloud])
        #expect(try sockets.connect("worker").accepted == Self.given(Self.cloud), "its own entry is nearer")
        #expect(hook.counters() == [try scene.id(scene.web): SocketCounters(given: 1),
                                    try scene.id(scene.worker): SocketCounters(given: 1)])
    }

    /// A reload's new values, and a workload removed, take effect on the same link.
    @Test func theMapIsChangedInPlaceWithTheSameLink() throws {
        let scene = try BPFScene()
        let web = try scene.id(scene.web)
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [web: Self.web])
        defer { try? hook.detach() }
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        try sockets.listen("server")
        try scene.sandbox.move(sockets.pid, to: scene.outside)
        #expect(try sockets.connect("server").accepted == Self.given(Self.web))
        let link = hook.linkID
        #expect(try hook.setWorkloads([web: Self.cloud]).isEmpty)
        #expect(hook.workloads() == [web: Self.cloud])
        #expect(try sockets.connect("server").accepted == Self.given(Self.cloud))
        #expect(try hook.setWorkloads([:]) == [web: SocketCounters(given: 2)], "the removed workload's last counts")
        #expect(try sockets.connect("server").accepted == Self.untouched, "a workload no longer selected is untouched")
        #expect(hook.counters().isEmpty)
        #expect(hook.linkID == link)
        #expect(try scene.attached(scene.hooked).count == 1, "one program attached throughout")
    }
}

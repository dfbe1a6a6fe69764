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
        let hooked = try HookedScene(Self.web)
        let scene = hooked.scene
        #expect(hooked.hook.attachment == .attached)
        try hooked.listen("server", in: scene.web)
        var connections: [LoopbackSockets.Connection] = []
        for _ in 0..<3 { connections.append(try hooked.connect("server", from: scene.outside)) }   // no program runs for the client
        for connection in connections {
            #expect(connection.accepted == Self.given(Self.web))
            #expect(connection.client == Self.untouched)
        }
        let ss = try hooked.sockets.socketStatistics()
        for connection in connections {
            let line = ss.split(separator: "\n").first { $0.contains("127.0.0.1:\(connection.ports[1]) ") && $0.contains(":\(connection.ports[0]) ") }
            #expect(line?.contains("timer:(keepalive,") == true, "ss -tnoi shows the keepalive timer on the accepted end: \(ss)")
        }
        #expect(hooked.hook.counters()[hooked.web] == SocketCounters(given: 3))
    }

    /// The application's own value of one option, and what the program must leave it as.
    static let ownChoices: [(String, Int)] = [("SO_KEEPALIVE", 1), ("TCP_KEEPIDLE", 600), ("TCP_KEEPINTVL", 7),
                                              ("TCP_KEEPCNT", 4), ("TCP_USER_TIMEOUT", 12_345)]

    /// Each of the five options, set by the application, keeps its value; the others are given.
    @Test(arguments: ownChoices)
    func anApplicationsOwnSettingStandsAndOnlyTheRestIsGiven(_ option: String, _ value: Int) throws {
        let hooked = try HookedScene(Self.web)
        try hooked.listen("server", in: hooked.scene.web, options: [option: value])   // children inherit it
        let connection = try hooked.connect("server", from: hooked.scene.web, options: [option: value])
        var expected = Self.given(Self.web)
        expected[option] = value
        #expect(connection.accepted == expected, "the accepted end (passive)")
        #expect(connection.client == expected, "the client end (active)")
        #expect(hooked.hook.counters()[hooked.web] == SocketCounters(given: 2))
    }

    /// An application that set all five is left alone, and counted so.
    @Test func anApplicationThatSetEverythingIsLeftAlone() throws {
        let hooked = try HookedScene(Self.web)
        let own = Dictionary(uniqueKeysWithValues: Self.ownChoices)
        try hooked.listen("server", in: hooked.scene.web, options: own)
        let connection = try hooked.connect("server", from: hooked.scene.web, options: own)
        #expect(connection.accepted == own)
        #expect(connection.client == own)
        #expect(hooked.hook.counters()[hooked.web] == SocketCounters(leftAlone: 2))
    }

    /// The workload is the socket's cgroup, not the task the kernel happens to run: over
    /// loopback the passive side is established in softirq while the client's connect()
    /// runs, so a lookup by `current` would find the client's cgroup.
    @Test func theSocketsCgroupDecidesNotTheCurrentTask() throws {
        let hooked = try HookedScene(Self.web)
        let scene = hooked.scene
        try hooked.listen("unselected", in: scene.other)
        try hooked.listen("selected", in: scene.web)
        let intoUnselected = try hooked.connect("unselected", from: scene.web)
        #expect(intoUnselected.accepted == Self.untouched, "an unselected server's connection is untouched")
        #expect(intoUnselected.client == Self.given(Self.web), "the selected client's own end is given")
        let intoSelected = try hooked.connect("selected", from: scene.other)
        #expect(intoSelected.accepted == Self.given(Self.web))
        #expect(intoSelected.client == Self.untouched)
        #expect(hooked.hook.counters() == [hooked.web: SocketCounters(given: 2)], "nothing counted for other")
    }

    /// A sub-cgroup of a workload is that workload's, unless it has an entry of its own.
    @Test func aCgroupUnderAWorkloadIsCoveredByTheNearestEntry() throws {
        let hooked = try HookedScene(Self.web)
        let scene = hooked.scene, worker = try scene.id(scene.worker)
        try hooked.listen("worker", in: scene.worker)
        #expect(try hooked.connect("worker", from: scene.outside).accepted == Self.given(Self.web), "web's sub-cgroup is web's")
        try hooked.hook.setWorkloads([hooked.web: Self.web, worker: Self.cloud])
        #expect(try hooked.connect("worker", from: scene.outside).accepted == Self.given(Self.cloud), "its own entry is nearer")
        #expect(hooked.hook.counters() == [hooked.web: SocketCounters(given: 1), worker: SocketCounters(given: 1)])
    }

    /// A reload's new values, and a workload removed, take effect on the same link.
    @Test func theMapIsChangedInPlaceWithTheSameLink() throws {
        let hooked = try HookedScene(Self.web)
        let scene = hooked.scene, hook = hooked.hook, web = hooked.web
        try hooked.listen("server", in: scene.web)
        #expect(try hooked.connect("server", from: scene.outside).accepted == Self.given(Self.web))
        let link = hook.linkID
        #expect(try hook.setWorkloads([web: Self.cloud]).isEmpty)
        #expect(hook.workloads() == [web: Self.cloud])
        #expect(try hooked.connect("server", from: scene.outside).accepted == Self.given(Self.cloud))
        #expect(try hook.setWorkloads([:]) == [web: SocketCounters(given: 2)], "the removed workload's last counts")
        #expect(try hooked.connect("server", from: scene.outside).accepted == Self.untouched,
                "a workload no longer selected is untouched")
        #expect(hook.counters().isEmpty)
        #expect(hook.linkID == link)
        #expect(try scene.attached(scene.hooked).count == 1, "one program attached throughout")
    }
}

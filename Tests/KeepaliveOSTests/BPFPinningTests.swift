import Foundation
import KeepaliveModel
@testable import KeepaliveOS
import KeepaliveTestKit
import Testing

/// One loader, one pin directory: what a crash leaves attached, what a restart adopts (never
/// a second attachment), how an older program is replaced in place, and that a clean detach
/// leaves the bpffs empty. Checked with bpftool, on the test's own cgroups and bpffs.
@Suite("BPF pins: crash, adoption, detach", .serialized, BPFTestGate.trait)
struct BPFPinningTests {
    static let web = KeepaliveHookTests.web

    /// What the keepalive hook pins, relative to the test's bpffs.
    static let keepalivePins = ["keepalived-tune", "keepalived-tune/sockops", "keepalived-tune/sockops/counters",
                                "keepalived-tune/sockops/link", "keepalived-tune/sockops/workloads"]

    /// A test-only program's object (Tests/Fixtures/bpf, built by scripts/build-bpf).
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(FileList.packageRoot)/Tests/Fixtures/bpf/\(name).bpf.o")))
    }

    /// A server in web, a client outside: one connection's accepted end.
    static func connect(_ scene: BPFScene, _ sockets: LoopbackSockets) throws -> LoopbackSockets.Options {
        try sockets.connect("server").accepted
    }

    /// Starts the sockets fixture with a listener in web; the process then moves outside.
    static func server(in scene: BPFScene) throws -> LoopbackSockets {
        let sockets = try LoopbackSockets()
        try scene.sandbox.move(sockets.pid, to: scene.web)
        try sockets.listen("server")
        try scene.sandbox.move(sockets.pid, to: scene.outside)
        return sockets
    }

    /// A crash leaves the program attached; a restart adopts it (one link, counters kept); detach empties the bpffs.
    @Test func aPinnedLinkOutlivesItsLoaderAndASecondLoaderAdoptsIt() throws {
        let scene = try BPFScene()
        let web = try scene.id(scene.web)
        let sockets = try Self.server(in: scene)
        defer { sockets.stop() }
        var first: KeepaliveHook? = try KeepaliveHook.attach(at: scene.place, workloads: [web: Self.web])
        let link = try #require(first).linkID
        #expect(try Self.connect(scene, sockets) == KeepaliveHookTests.given(Self.web))
        first = nil   // a crash: descriptors closed, nothing detached
        #expect(try scene.attached(scene.hooked).count == 1, "still attached through its pin")
        #expect(scene.sandbox.pinnedFiles() == Self.keepalivePins)
        #expect(try Self.connect(scene, sockets) == KeepaliveHookTests.given(Self.web), "no gap while no loader runs")

        let second = try KeepaliveHook.attach(at: scene.place, workloads: [web: KeepaliveHookTests.cloud])
        #expect(second.attachment == .adopted)
        #expect(second.linkID == link, "the same link")
        let attached = try scene.attached(scene.hooked)
        #expect(attached.count == 1 && attached[0].contains("sock_ops"), "exactly one program: \(attached)")
        #expect(second.counters()[web] == SocketCounters(given: 2), "the pinned counters, kept")
        #expect(try Self.connect(scene, sockets) == KeepaliveHookTests.given(KeepaliveHookTests.cloud),
                "the adopted map holds the new workloads")

        try second.detach()
        #expect(try scene.attached(scene.hooked).isEmpty)
        #expect(scene.sandbox.pinnedFiles().isEmpty, "detach leaves the bpffs empty")
        #expect(try Self.connect(scene, sockets) == KeepaliveHookTests.untouched)
    }

    /// An older release's pinned program is replaced on the same link; its incompatible map is replaced.
    @Test func anOlderProgramIsSwappedInPlaceAndAMapOfAnotherLayoutReplaced() throws {
        let scene = try BPFScene()
        let web = try scene.id(scene.web)
        let sockets = try Self.server(in: scene)
        defer { sockets.stop() }
        let current = KeepaliveHook.program
        let previous = HookProgram(hook: .keepalive, image: try Self.fixture("keepalive-previous"), objectName: "keepalive",
                                   program: current.program, maps: current.maps, attachType: current.attachType)
        var old: PinnedHook? = try PinnedHook.attach(previous, at: scene.place) { _ in }
        let link = try #require(old).linkID
        old = nil
        #expect(try Self.connect(scene, sockets) == KeepaliveHookTests.untouched, "the older program gives nothing")

        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [web: Self.web])
        defer { try? hook.detach() }
        guard case .updated(let from, let to) = hook.attachment else {
            Issue.record("the pinned link was not updated: \(hook.attachment)")
            return
        }
        #expect(from != to)
        #expect(hook.linkID == link, "the same link, now running the new program")
        #expect(hook.replacedMaps == ["counters"], "its counters map had another size")
        #expect(try scene.attached(scene.hooked).count == 1)
        #expect(try Self.connect(scene, sockets) == KeepaliveHookTests.given(Self.web))
        #expect(hook.counters()[web] == SocketCounters(given: 1))
    }

    /// A changed [bpf] cgroup: the new cgroup gets the link, the old attachment goes.
    @Test func aLinkPinnedForAnotherCgroupIsReplacedNotKept() throws {
        let scene = try BPFScene()
        let web = try scene.id(scene.web)
        var first: KeepaliveHook? = try KeepaliveHook.attach(at: scene.place, workloads: [web: Self.web])
        _ = first
        first = nil
        let moved = BPFPlace(cgroup: scene.web, pins: scene.place.pins)   // [bpf] cgroup changed
        let hook = try KeepaliveHook.attach(at: moved, workloads: [web: Self.web])
        #expect(hook.attachment == .attached)
        #expect(try scene.attached(scene.hooked).isEmpty, "the old attachment is gone")
        #expect(try scene.attached(scene.web).count == 1)
        try hook.detach()
        #expect(try scene.attached(scene.web).isEmpty)
        #expect(scene.sandbox.pinnedFiles().isEmpty)
    }

    /// A pinned link someone detached (`bpftool link detach`) is not adopted: attached anew.
    @Test func aLinkSomeoneDetachedIsAttachedAgain() throws {
        let scene = try BPFScene()
        let web = try scene.id(scene.web)
        var first: KeepaliveHook? = try KeepaliveHook.attach(at: scene.place, workloads: [web: Self.web])
        let link = try #require(first).linkID
        first = nil
        let detached = try ChildProcess.run(["bpftool", "link", "detach", "id", String(link)])
        try #require(detached.status == 0, "\(detached)")
        #expect(try scene.attached(scene.hooked).isEmpty)
        let hook = try KeepaliveHook.attach(at: scene.place, workloads: [web: Self.web])
        defer { try? hook.detach() }
        #expect(hook.attachment == .attached)
        #expect(hook.linkID != link)
        #expect(try scene.attached(scene.hooked).count == 1)
    }

    /// Why the program reads the socket's cgroup: a witness program records, at each passive
    /// establishment, the cgroup of `current` and of the socket. The server's listener is in
    /// web; the connecting process is in other.
    @Test func currentIsNotTheSocketsCgroupOnThePassiveSide() throws {
        let scene = try BPFScene()
        let witness = HookProgram(hook: .keepalive, image: try Self.fixture("current-cgroup"), objectName: "witness",
                                  program: "current_cgroup", maps: ["seen"], attachType: KeepaliveHook.program.attachType)
        let hook = try PinnedHook.attach(witness, at: scene.place) { _ in }
        defer { try? hook.detach() }
        let sockets = try LoopbackSockets()
        defer { sockets.stop() }
        try scene.sandbox.move(sockets.pid, to: scene.web)
        try sockets.listen("server")
        try scene.sandbox.move(sockets.pid, to: scene.other)
        _ = try sockets.connect("server")
        let seen = try hook.map("seen"), web = try scene.id(scene.web).rawValue
        #expect(seen.lookup(UInt32(1), as: UInt64.self) == web, "the socket's cgroup is the server's")
        let current = seen.lookup(UInt32(0), as: UInt64.self)
        #expect(current != nil && current != web, "current was not the server (cgroup \(current ?? 0))")
        #expect(current == (try scene.id(scene.other)).rawValue, "over loopback, current is the connecting process")
    }
}

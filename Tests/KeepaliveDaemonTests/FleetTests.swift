import Foundation
import InMemoryLogging
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Logging
import Testing

/// The fleet in-process: discovery over a `/proc` and a mount table of the test's own, each
/// "namespace" a fake sysctl root whose three files the opener hands over, swift-log's
/// InMemoryLogHandler for the journal, and the clock the test says. No root needed: nothing
/// of the host is read or written.
@Suite("Fleet (in-process)")
struct FleetTests {
    static let start = Instant(microseconds: 5_000_000_000)
    static let web = ResolvedProfile(name: ProfileName("web")!, description: "d", values: KeepaliveValues(time: 600, intvl: 10, probes: 5),
                                     provenance: [:], source: "w", chain: ["w"])

    /// The pins, their namespaces' files, and a fleet over them.
    final class Fixture {
        let proc: TemporaryDirectory
        let runtime: TemporaryDirectory
        /// Each pinned namespace's keepalive files, by pin name.
        var roots: [String: FakeSysctlRoot] = [:]
        var inodes: [String: UInt64] = [:]
        /// The namespaces entered, in order, by pin path.
        let entered = Shared<[String]>([])
        /// The descriptors handed over for each pin path.
        let opened = Shared<[String: [Int32]]>([:])
        /// Descriptors whose reads fail with ENOENT, as a namespace's do once it ends.
        let ended = Shared<Set<Int32>>([])
        let logs = InMemoryLogHandler()
        let inotify: Inotify
        var fleet: Fleet!

        /// The mount table with every pin in it (``mountAll()``).
        private var everyPin = ""

        /// `pins` are named by a bind mount, the first `mounted` of them (all by default) in the
        /// mount table from the start; `pathless` are seen only through a member process.
        init(pins: [String], pathless: [String] = [], rule: String = "netns:kt-web-*", policy: Policy? = nil,
             mounted: Int? = nil) throws {
            proc = try TemporaryDirectory("kt-fleet-proc")
            runtime = try TemporaryDirectory("kt-fleet-run")
            try proc.write("self/ns/net", "")
            var mountinfo = ""
            for (index, name) in pins.enumerated() {
                let path = try proc.write("root/run/netns/\(name)", "")
                let inode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
                inodes[name] = inode
                roots[name] = try FakeSysctlRoot()
                let line = "\(40 + index) 22 0:4 net:[\(inode)] /run/netns/\(name) rw - nsfs nsfs rw\n"
                everyPin += line
                if index < mounted ?? pins.count { mountinfo += line }
            }
            for (index, name) in pathless.enumerated() {
                let path = try proc.write("\(100 + index)/ns/net", "")
                try proc.write("\(100 + index)/cgroup", "0::/user.slice/user-0.slice/session-1.scope\n")
                inodes[name] = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
                roots[name] = try FakeSysctlRoot()
            }
            try proc.write("mountinfo", mountinfo)
            var discoveryRoots = NamespaceDiscovery.Roots()
            discoveryRoots.proc = proc.path
            discoveryRoots.mountinfo = proc.url("mountinfo")
            discoveryRoots.pinRoot = proc.url("root")
            discoveryRoots.runtimes = .init(under: runtime.path)
            // The cgroups the members' paths lead through, owned as a host's are (by this test).
            try proc.makeDirectory("cgroup/user.slice/user-0.slice")
            discoveryRoots.cgroup = proc.url("cgroup")
            discoveryRoots.cgroupOwner = geteuid()
            var calls = Syscalls.live
            let realRead = calls.pread, ended = self.ended
            calls.pread.body = { fd, buffer, offset in ended.withLock { $0.contains(fd) } ? .failure(Errno(ENOENT)) : realRead(fd, buffer, offset) }
            let setup = Setup(configPath: runtime.url("none.conf"), profileDirectories: [], runtimeDirectory: runtime.path,
                              reader: FileReader(syscalls: calls))
            inotify = try Inotify(syscalls: calls)
            let handler = logs
            let log = EventLog(logger: Logger(label: "fleet") { _ in handler })
            let byInode = Dictionary(uniqueKeysWithValues: inodes.map { ($0.value, $0.key) })
            let roots = self.roots, entered = self.entered, opened = self.opened
            fleet = Fleet(setup: setup, policy: policy ?? FleetTests.policy(rule: rule), log: log, inotify: inotify, book: nil,
                          discovery: NamespaceDiscovery(roots: discoveryRoots, syscalls: calls),
                          enter: { targets in
                              targets.map { target in
                                  entered.withLock { $0.append(target.path) }
                                  let root = roots[byInode[target.inode ?? 0] ?? ""]!
                                  let fds = Tunable.allCases.map { open("\(root.path)/\($0.relativePath)", O_RDWR | O_CLOEXEC) }
                                  opened.withLock { $0[target.path] = fds }
                                  return .success(NamespaceEntry.Opened(descriptors: fds, cookie: target.inode ?? 0))
                              }
                          }, at: FleetTests.start)
        }

        /// Puts every pin in the mount table, as bind mounts made after the first scan.
        func mountAll() throws { try proc.write("mountinfo", everyPin) }

        /// The `EVENT` of every entry so far.
        var events: [String] { logs.entries.compactMap { $0.metadata["EVENT"].map { "\($0)" } } }

        func entry(_ event: String) -> [String: String]? {
            logs.entries.last { $0.metadata["EVENT"].map { "\($0)" } == event }?.metadata.mapValues { "\($0)" }
        }

        func at(_ seconds: Int) -> Instant { FleetTests.start + .seconds(seconds) }

        /// Names the pathless namespace of member `index` as `ip netns add` does, after the
        /// fact: a bind mount (here a hard link: the same inode) under /run/netns.
        func pin(member index: Int, as name: String) throws {
            try proc.makeDirectory("root/run/netns")
            #expect(link(proc.url("\(100 + index)/ns/net"), proc.url("root/run/netns/\(name)")) == 0)
            let inode = try #require(try FileManager.default.attributesOfItem(atPath: proc.url("\(100 + index)/ns/net"))[.systemFileNumber] as? UInt64)
            try proc.write("mountinfo", "40 22 0:4 net:[\(inode)] /run/netns/\(name) rw - nsfs nsfs rw\n")
        }

        /// Ticks at each deadline the fleet gives, up to `seconds` after the start.
        func run(until seconds: Int) {
            var now = at(0)
            while now <= at(seconds) {
                _ = fleet.tick(at: now)
                let next = fleet.deadline(at: now)
                guard next > now else { now = now + .milliseconds(1); continue }
                now = next
            }
        }
    }

    static func policy(rule: String, manage: NamespaceRules.Reach = .matching, exclude: String = "") -> Policy {
        var config = DaemonConfig()
        let line = SourceLocation(file: "/c.conf", line: 2)
        config.manage = Located(manage, at: line)
        if !exclude.isEmpty { config.exclude = Located(try! NamespaceSelector.parseList(exclude).get(), at: line) }
        config.namespaceRuleLines = rule.isEmpty ? [] : [NamespaceRules.Rule(profile: web.name, selectors: try! NamespaceSelector.parseList(rule).get(), location: line)]
        return Policy(config: config, profile: EnforcerTests.serverProfile, namespaceProfiles: [web.name: web])
    }

    @Test func aMatchingNamespaceIsAdoptedAndAnotherNeverEntered() throws {
        let fixture = try Fixture(pins: ["kt-web-1", "kt-other"])
        #expect(fixture.fleet.deadline(at: fixture.at(0)) <= fixture.at(0), "the first scan is due at once")
        #expect(fixture.fleet.tick(at: fixture.at(0)))
        #expect(try fixture.roots["kt-web-1"]!.compact() == "600/10/5")
        #expect(try fixture.roots["kt-other"]!.compact() == "7200/75/9")
        #expect(fixture.entered.withLock { $0 } == ["/run/netns/kt-web-1"], "an unselected namespace is never entered")
        let adopted = try #require(fixture.entry("namespace-adopted"))
        #expect(adopted["PROFILE"] == "web" && adopted["NETNS_NAME"] == "kt-web-1" && adopted["CHANGES"] == "3")
        #expect(fixture.fleet.counts == (managed: 1, drifting: 0))
        #expect(!fixture.fleet.tick(at: fixture.at(1)), "nothing due a second later")
    }

    @Test func aMembersDriftIsCorrectedAtItsCheck() throws {
        let fixture = try Fixture(pins: ["kt-web-1"])
        fixture.fleet.tick(at: fixture.at(0))
        try fixture.roots["kt-web-1"]!.set("tcp_keepalive_time", 7200)
        #expect(fixture.fleet.tick(at: fixture.at(31)), "the default check interval is 30 s")
        #expect(try fixture.roots["kt-web-1"]!.compact() == "600/10/5")
        #expect(fixture.events.suffix(2) == ["drift", "corrected"])
        #expect(fixture.entry("corrected")?["NETNS_NAME"] == "kt-web-1")
    }

    @Test func aReloadThatDropsTheRuleReleasesTheNamespaceAsItIs() throws {
        let fixture = try Fixture(pins: ["kt-web-1"])
        fixture.fleet.tick(at: fixture.at(0))
        fixture.fleet.reconfigure(FleetTests.policy(rule: ""), at: fixture.at(5))
        #expect(fixture.events.last == "namespace-released")
        #expect(fixture.fleet.members.isEmpty)
        #expect(try fixture.roots["kt-web-1"]!.compact() == "600/10/5", "released, never restored")
        #expect(fixture.fleet.tick(at: fixture.at(5)), "a reload scans at once")
        #expect(fixture.fleet.members.isEmpty, "and does not take it in again")
    }

    @Test func aNamespaceThatEndsIsDroppedWithOneEntry() throws {
        let fixture = try Fixture(pins: ["kt-web-1"])
        fixture.fleet.tick(at: fixture.at(0))
        let descriptors = try #require(fixture.opened.withLock { $0["/run/netns/kt-web-1"] })
        fixture.ended.withLock { $0.formUnion(descriptors) }
        fixture.fleet.checkAll()
        #expect(fixture.fleet.tick(at: fixture.at(1)))
        #expect(fixture.fleet.members.isEmpty)
        #expect(fixture.events.filter { $0 == "namespace-gone" }.count == 1)
        #expect(fixture.fleet.counts == (managed: 0, drifting: 0))
    }

    /// `ip netns add` makes the namespace, then names it: a scan in between sees it only
    /// through the `ip` process. An exclusion by the name must still hold (it did not: the
    /// namespace was adopted nameless, under `manage = all`'s fallback).
    @Test func aNamespaceSeenBeforeItsNameIsHeldUntilTheNameComes() throws {
        let fixture = try Fixture(pins: [], pathless: ["kt-skip-1"],
                                  policy: FleetTests.policy(rule: "", manage: .all, exclude: "netns:kt-skip-*"))
        _ = fixture.fleet.tick(at: fixture.at(0))
        #expect(fixture.entered.withLock { $0 }.isEmpty, "held at first sight")
        try fixture.pin(member: 0, as: "kt-skip-1")
        fixture.run(until: 130)
        #expect(fixture.entered.withLock { $0 }.isEmpty, "excluded by its name once it has one: never entered")
        #expect(try fixture.roots["kt-skip-1"]!.compact() == "7200/75/9")
    }

    @Test func aNamespaceThatNeverGetsANameIsAdoptedAfterTheGrace() throws {
        let fixture = try Fixture(pins: [], pathless: ["anonymous"], policy: FleetTests.policy(rule: "", manage: .all))
        _ = fixture.fleet.tick(at: fixture.at(0))
        #expect(fixture.fleet.members.isEmpty)
        fixture.run(until: 3)
        #expect(fixture.entered.withLock { $0.count } == 1, "adopted once, by its process")
        #expect(fixture.fleet.members.count == 1)
        #expect(fixture.entry("namespace-adopted")?["UNIT"] == "session-1.scope")
    }

    /// A pin found by a quick scan, whose members no full scan has read, waits for one when the
    /// rules judge members (issue 32, finding 5): the full scan is asked for at once.
    @Test func aPinFoundBetweenFullScansWaitsForOneWhenMembersAreJudged() throws {
        let fixture = try Fixture(pins: ["kt-web-1"], policy: FleetTests.policy(rule: "netns:kt-web-*", exclude: "unit:critical.service"),
                                  mounted: 0)
        #expect(fixture.fleet.tick(at: fixture.at(0)), "the first, full, scan: nothing pinned yet")
        try fixture.mountAll()
        fixture.fleet.lookSoon(at: fixture.at(1))
        #expect(fixture.fleet.tick(at: fixture.at(1)), "a quick scan")
        #expect(fixture.fleet.members.isEmpty && fixture.entered.withLock { $0 }.isEmpty, "not adopted on unread members")
        #expect(fixture.fleet.deadline(at: fixture.at(1)) <= fixture.at(1), "a full scan is due at once")
        #expect(fixture.fleet.tick(at: fixture.at(1)))
        #expect(fixture.fleet.members.count == 1 && fixture.entered.withLock { $0 } == ["/run/netns/kt-web-1"])
    }

    @Test func withoutRulesOnMembersAQuickScanAdoptsAtOnce() throws {
        let fixture = try Fixture(pins: ["kt-web-1"], policy: FleetTests.policy(rule: "netns:kt-web-*", exclude: "netns:ci-*"), mounted: 0)
        fixture.fleet.tick(at: fixture.at(0))
        try fixture.mountAll()
        fixture.fleet.lookSoon(at: fixture.at(1))
        #expect(fixture.fleet.tick(at: fixture.at(1)))
        #expect(fixture.fleet.members.count == 1)
    }

    @Test func withoutRulesTheFleetNeverScans() throws {
        let fixture = try Fixture(pins: ["kt-web-1"], rule: "")
        var config = DaemonConfig()
        config.manage = nil
        fixture.fleet.reconfigure(Policy(config: config, profile: EnforcerTests.serverProfile), at: fixture.at(0))
        #expect(!fixture.fleet.isActive)
        #expect(fixture.fleet.deadline(at: fixture.at(0)) == .never)
        #expect(!fixture.fleet.tick(at: fixture.at(100)))
        #expect(fixture.entered.withLock { $0 }.isEmpty)
    }
}

/// A value shared with the fleet's opener and the seam's closures, behind a lock.
final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

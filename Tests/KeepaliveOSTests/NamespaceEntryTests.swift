import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Synchronization
import Testing

/// ``NamespaceEntry`` in this process, against network namespaces the test makes: each is an
/// `unshare -n` child that writes values of its own into its namespace, says `ready` and
/// sleeps until the test kills it. Only those namespaces are entered or written; the host's
/// values are read, to prove they did not change.
///
/// Entering needs root (`setns(2)`, and `/proc/PID/ns/net` of another process). Not root, the
/// suite is skipped, unless `CI=true`: there a skip would hide the part, so it fails.
/// Whether the tests run under CI (`CI=true`), where a part that cannot be tested is a failure.
private let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

@Suite("Namespace entry (real namespaces)",
       .enabled(if: geteuid() == 0 || underCI,
                "entering a network namespace needs root (CAP_SYS_ADMIN); under CI=true this fails instead"))
struct NamespaceEntryTests {
    /// A network namespace of the test's own, held by an `unshare -n` child that set `values`
    /// in it; the child is killed and reaped by ``end()`` or, at the latest, on release.
    final class HeldNamespace {
        let process: SpawnedProcess
        let values: KeepaliveValues
        /// `/proc/PID/ns/net`.
        let path: String
        /// The namespace's identity.
        let inode: UInt64

        init(_ values: KeepaliveValues) throws {
            try #require(geteuid() == 0, "NamespaceEntry is tested as root only (CI=true: a skip is a failure)")
            self.values = values
            let writes = Tunable.allCases.map { "echo \(values[$0]) > /proc/sys/\($0.relativePath)" }
            process = try SpawnedProcess(["unshare", "-n", "sh", "-c", (writes + ["echo ready", "exec sleep 600"]).joined(separator: " && ")],
                                         stdout: .pipe)
            path = "/proc/\(process.pid)/ns/net"
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = process.output!.availableData   // blocks until the child writes or exits
                if chunk.isEmpty { break }
                line += chunk
            }
            var status = stat()
            let ready = String(decoding: line, as: UTF8.self) == "ready\n" && stat(path, &status) == 0
            inode = UInt64(status.st_ino)
            if !ready { end() }
            try #require(ready, "the namespace's child did not start: \(String(decoding: line, as: UTF8.self))")
        }

        /// Ends the namespace: kills its only process and waits until it is reaped.
        func end() {
            process.signal(SIGKILL)
            process.wait()
        }

        deinit { end() }

        var target: NamespaceEntry.Target { NamespaceEntry.Target(path: path, inode: inode) }

        /// What `cat` run inside the namespace reads for `key` (nsenter, not the test's descriptors).
        func valueInside(_ key: Tunable) throws -> String {
            let result = try ChildProcess.run(["nsenter", "-t", String(process.pid), "-n", "cat", "/proc/sys/\(key.relativePath)"])
            try #require(result.status == 0, "\(result)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The live seam, noting the descriptors it opened on keepalive files and every one it closed.
    final class DescriptorLedger: Sendable {
        private let state = Mutex<(opened: [Int32], closed: Set<Int32>)>(([], []))
        var opened: [Int32] { state.withLock { $0.opened } }
        /// Opened keepalive descriptors not closed since.
        var leaked: [Int32] { state.withLock { state in state.opened.filter { !state.closed.contains($0) } } }

        func seam(_ base: Syscalls = .live) -> Syscalls {
            var calls = base
            calls.open.body = { path, flags in
                let result = base.open(path, flags)
                if path.hasPrefix("\(SysctlTree.defaultRoot)/net/ipv4/tcp_keepalive_"), case .success(let fd) = result {
                    self.state.withLock { $0.opened.append(fd); $0.closed.remove(fd) }
                }
                return result
            }
            calls.close.body = { fd in
                self.state.withLock { _ = $0.closed.insert(fd) }
                base.close(fd)
            }
            return calls
        }
    }

    /// Runs `body`, and checks the calling thread is in the namespace it started in, and the
    /// host's values are what they were.
    func staying<T>(_ body: () throws -> T) rethrows -> T {
        let (namespace, host) = (NetworkNamespace.current(syscalls: .live), HostKeepalive.snapshot())
        let result = try body()
        #expect(NetworkNamespace.current(syscalls: .live) == namespace, "the calling thread was moved into another namespace")
        #expect(NetworkNamespace.current(syscalls: .live) != nil)
        #expect(HostKeepalive.snapshot() == host)
        return result
    }

    static let first = KeepaliveValues(time: 1111, intvl: 11, probes: 1)
    static let second = KeepaliveValues(time: 2222, intvl: 22, probes: 2)

    /// The inode of the file behind `fd`.
    func inode(of fd: Int32) -> UInt64 {
        var status = stat()
        return fstat(fd, &status) == 0 ? UInt64(status.st_ino) : 0
    }

    @Test func eachNamespaceGetsThreeCloseOnExecDescriptorsThatReadItsOwnValues() throws {
        let (a, b) = (try HeldNamespace(Self.first), try HeldNamespace(Self.second))
        let results = staying { NamespaceEntry.openSysctls([a.target, b.target], syscalls: .live) }
        try #require(results.count == 2)
        let descriptors = try results.map { try $0.get() }
        #expect(descriptors.map(\.count) == [3, 3])
        #expect(Set(descriptors.joined()).count == 6)
        for fd in descriptors.joined() { #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "descriptor \(fd) is inherited by children") }
        let own = Tunable.allCases.map { key -> UInt64 in
            var status = stat()
            return stat("\(SysctlTree.defaultRoot)/\(key.relativePath)", &status) == 0 ? UInt64(status.st_ino) : 0
        }
        for fds in descriptors { #expect(zip(fds, own).allSatisfy { inode(of: $0) != $1 }, "a descriptor is the test's own file") }
        // The trees own and close the descriptors.
        #expect(try SysctlTree(pinned: descriptors[0], syscalls: .live).readAll() == Self.first)
        #expect(try SysctlTree(pinned: descriptors[1], syscalls: .live).readAll() == Self.second)
    }

    /// Each namespace entered reports its cookie, read inside it: the same namespace the same
    /// cookie, another namespace another, never the caller's (issue 32, finding 8).
    @Test func eachNamespaceEnteredReportsItsOwnCookie() throws {
        let (a, b) = (try HeldNamespace(Self.first), try HeldNamespace(Self.second))
        let opened = try staying { NamespaceEntry.open([a.target, b.target, a.target], syscalls: .live) }.map { try $0.get() }
        for entry in opened { entry.descriptors.forEach { Glibc.close($0) } }
        let cookies = opened.map(\.cookie)
        #expect(!cookies.contains(0), "this kernel has SO_NETNS_COOKIE")
        #expect(cookies[0] == cookies[2] && cookies[0] != cookies[1], "\(cookies)")
        #expect(!cookies.contains(NetworkNamespace.cookie(syscalls: .live)), "the caller's own namespace's cookie")
    }

    @Test func aWriteThroughADescriptorLandsInThatNamespaceAlone() throws {
        let (a, b) = (try HeldNamespace(Self.first), try HeldNamespace(Self.second))
        let host = HostKeepalive.snapshot()
        let tree = SysctlTree(pinned: try staying { NamespaceEntry.openSysctls(at: a.path, inode: a.inode, syscalls: .live) }.get(), syscalls: .live)
        try tree.write(.time, 3333)
        #expect(try a.valueInside(.time) == "3333")
        #expect(try a.valueInside(.probes) == "1")
        #expect(try b.valueInside(.time) == "2222")
        #expect(HostKeepalive.snapshot() == host)
    }

    @Test func aPathThatIsNoLongerTheNamespaceExpectedIsRefusedBeforeEntering() throws {
        let (a, b) = (try HeldNamespace(Self.first), try HeldNamespace(Self.second))
        let ledger = DescriptorLedger()
        let result = staying { NamespaceEntry.openSysctls(at: a.path, inode: b.inode, syscalls: ledger.seam()) }
        guard case .failure(let failure) = result else {
            Issue.record("entered \(a.path) though it is not namespace \(b.inode)")
            return
        }
        #expect(failure.errno == nil && failure.path == a.path)
        #expect(failure.detail == "it is no longer namespace \(b.inode) (the process or mount was replaced)")
        #expect(ledger.opened.isEmpty, "a keepalive file was opened in a namespace that was not checked")
    }

    @Test func aNamespaceThatEndedIsReportedAsGoneAndTheNextOneIsStillEntered() throws {
        let (ended, b) = (try HeldNamespace(Self.first), try HeldNamespace(Self.second))
        let c = try HeldNamespace(KeepaliveValues(time: 3333, intvl: 33, probes: 3))
        ended.end()
        let ledger = DescriptorLedger()
        let results = staying { NamespaceEntry.openSysctls([b.target, ended.target, c.target], syscalls: ledger.seam()) }
        try #require(results.count == 3)
        guard case .failure(let gone) = results[1] else {
            Issue.record("a namespace whose only process was reaped was entered: \(results[1])")
            return
        }
        #expect(gone.errno == Errno(ENOENT))
        #expect(gone.description == "cannot enter network namespace \(ended.path): \(Errno(ENOENT)) (it has gone)")
        // One thread entered all three in turn: the failure left it in b, and c is c's.
        #expect(try SysctlTree(pinned: results[0].get(), syscalls: .live).readAll() == Self.second)
        #expect(try SysctlTree(pinned: results[2].get(), syscalls: .live).readAll() == c.values)
        #expect(ledger.opened.count == 6)
    }

    /// In a namespace the test made for itself (a ``PrivateNetworkNamespace`` thread stands in
    /// for the daemon), entering that same namespace finds its files are the caller's own:
    /// refused, and the descriptor opened to see it is closed. (The same check catches a bind
    /// mount over /proc/sys, which pins the files of the namespace it was made in.)
    @Test func theCallersOwnFilesAreRefusedAndClosed() throws {
        try #require(geteuid() == 0, "NamespaceEntry is tested as root only (CI=true: a skip is a failure)")
        let ledger = DescriptorLedger()
        // Expectations are checked here, on the test's thread; the namespace's thread only reports.
        let (result, before, after) = try PrivateNetworkNamespace.run {
            let before = NetworkNamespace.current(syscalls: .live)
            let result = NamespaceEntry.openSysctls(at: "/proc/thread-self/ns/net", inode: nil, syscalls: ledger.seam())
            return (result, before, NetworkNamespace.current(syscalls: .live))
        }
        #expect(before != nil && after == before, "the caller's thread was moved")
        guard case .failure(let failure) = result else {
            Issue.record("the caller's own keepalive files were handed out as another namespace's")
            return
        }
        #expect(failure.errno == nil)
        #expect(failure.detail?.hasPrefix("its net.ipv4.tcp_keepalive_time resolves to the daemon's own file") == true)
        #expect(ledger.opened.count == 1, "refused at the first file")
        #expect(ledger.leaked.isEmpty, "descriptors of a refused namespace were left open: \(ledger.leaked)")
    }

    /// A bind mount of namespace a's files over the daemon's paths, as the seam shows it: the
    /// daemon's own path resolves to a's file. Entering a then finds "its own" files: refused.
    @Test func filesThatResolveToTheCallersPathAreRefused() throws {
        let a = try HeldNamespace(Self.first)
        let held = try NamespaceEntry.openSysctls(at: a.path, inode: a.inode, syscalls: .live).get()
        defer { held.forEach { close($0) } }
        let ledger = DescriptorLedger()
        var pinned = ledger.seam()
        pinned.pathStatus.body = { path in
            guard let index = Tunable.allCases.firstIndex(where: { path == "\(SysctlTree.defaultRoot)/\($0.relativePath)" }) else {
                return Syscalls.live.pathStatus(path)
            }
            return Syscalls.live.pathStatus("/proc/self/fd/\(held[index])")
        }
        let result = staying { NamespaceEntry.openSysctls(at: a.path, inode: a.inode, syscalls: pinned) }
        guard case .failure(let failure) = result else {
            Issue.record("a namespace whose files are the daemon's own (a bind mount) was entered for writing")
            return
        }
        #expect(failure.detail?.contains("resolves to the daemon's own file") == true)
        #expect(ledger.opened.count == 1 && ledger.leaked.isEmpty)
        #expect(try a.valueInside(.time) == "1111", "nothing was written")
    }
}

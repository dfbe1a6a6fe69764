import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Every member process of a namespace is read, however many there are, and a namespace whose
/// members could not all be read says so (issue 32, finding 5). A `/proc` of the test's own:
/// each member's `ns/net` a hard link of one file (one inode: one namespace).
@Suite("Namespace members")
struct NamespaceMembersTests {
    /// PIDs in one namespace, each with a cgroup (none: its cgroup file is missing).
    final class Proc {
        let directory: TemporaryDirectory
        let inode: UInt64

        init(_ members: [(pid: Int32, cgroup: String?)]) throws {
            directory = try TemporaryDirectory("kt-members-proc")
            try directory.write("self/ns/net", "")
            try directory.write("mountinfo", "")
            try directory.makeDirectory("cgroup/system.slice")
            try directory.makeDirectory("runtimes")
            let shared = try directory.write("shared-net", "")
            inode = try #require(try FileManager.default.attributesOfItem(atPath: shared)[.systemFileNumber] as? UInt64)
            for member in members {
                try directory.makeDirectory("\(member.pid)/ns")
                try FileManager.default.linkItem(atPath: shared, toPath: directory.url("\(member.pid)/ns/net"))
                if let cgroup = member.cgroup { try directory.write("\(member.pid)/cgroup", "0::\(cgroup)\n") }
            }
        }

        func discovery(syscalls: Syscalls = .live) -> NamespaceDiscovery {
            var roots = NamespaceDiscovery.Roots()
            roots.proc = directory.path
            roots.mountinfo = directory.url("mountinfo")
            roots.pinRoot = directory.url("pins")
            roots.runtimes = .init(under: directory.url("runtimes"))
            roots.cgroup = directory.url("cgroup")
            roots.cgroupOwner = geteuid()
            return NamespaceDiscovery(roots: roots, syscalls: syscalls)
        }
    }

    /// Five members of other units first, the excluded unit's last: all six are read.
    @Test func everyMemberIsReadTheLastOneToo() throws {
        let proc = try Proc((1...5).map { (Int32(100 + $0), "/system.slice/other-\($0).service") } + [(900, "/system.slice/critical.service")])
        let identity = try #require(proc.discovery().scan(processes: true).identities[proc.inode])
        #expect(identity.units.contains("critical.service") && identity.units.count == 6, "\(identity.units)")
        #expect(identity.coverage == .complete && identity.memberPID == 101)
    }

    @Test func pastTheBoundOfCgroupsTheMembersAreNotAllKnown() throws {
        let bound = 256
        let proc = try Proc((0...bound).map { (Int32(1000 + $0), "/system.slice/s-\($0).service") })
        let identity = try #require(proc.discovery().scan(processes: true).identities[proc.inode])
        #expect(identity.cgroups.count == bound)
        #expect(identity.coverage == .partial("its processes are in more than \(bound) cgroups"))
    }

    @Test func aMemberWhoseCgroupCannotBeReadLeavesItPartial() throws {
        let proc = try Proc([(101, "/system.slice/a.service"), (102, nil)])
        let identity = try #require(proc.discovery().scan(processes: true).identities[proc.inode])
        #expect(identity.coverage == .partial("the cgroup of PID 102 could not be read"))
    }

    /// A process whose namespace cannot be read could be in any namespace: none is known whole.
    @Test func aHiddenProcessLeavesEveryNamespacePartial() throws {
        let proc = try Proc([(101, "/system.slice/a.service"), (102, "/system.slice/b.service")])
        var calls = Syscalls.live
        let stat = calls.pathStatus.body, hidden = proc.directory.url("102/ns/net")
        calls.pathStatus.body = { path in path == hidden ? .failure(Errno(EACCES)) : stat(path) }
        let found = proc.discovery(syscalls: calls).scan(processes: true)
        #expect(found.hiddenProcesses == 1)
        #expect(found.identities[proc.inode]?.coverage == .partial("the namespaces of 1 processes could not be read: another user's, without CAP_SYS_PTRACE"))
    }

    @Test func aQuickScanKeepsWhatTheLastFullOneRead() throws {
        let proc = try Proc([(101, "/system.slice/a.service")])
        let discovery = proc.discovery()
        #expect(discovery.scan(processes: false).identities[proc.inode] == nil, "no full scan yet: no members known")
        _ = discovery.scan(processes: true)
        let quick = discovery.scan(processes: false).identities[proc.inode]
        #expect(quick?.coverage == .complete && quick?.units == ["a.service"])
    }
}

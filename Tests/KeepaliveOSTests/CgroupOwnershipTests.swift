import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Where root's names end, read from real directories standing in for a cgroup2 tree: one
/// owned by another user, or writable by group or others, is a delegation point, below which
/// nothing is a system unit (issue 32, finding 4).
@Suite("Cgroup ownership")
struct CgroupOwnershipTests {
    /// A tree of `system.slice/critical.service`, `open.slice/critical.service` (mode 0777) and,
    /// as root, `given.slice/critical.service` (owned by UID 1000).
    static func tree() throws -> TemporaryDirectory {
        let tree = try TemporaryDirectory("kt-cgroup-tree")
        for slice in ["system", "open", "given"] { try tree.makeDirectory("\(slice).slice/critical.service") }
        #expect(chmod(tree.url("open.slice"), 0o777) == 0)
        if geteuid() == 0 { #expect(chown(tree.url("given.slice"), 1000, 0) == 0) }
        return tree
    }

    @Test func aCgroupAnotherMayWriteIsADelegationPoint() throws {
        let tree = try Self.tree()
        let ownership = CgroupOwnership(root: tree.path, systemOwner: geteuid(), syscalls: .live)
        #expect(ownership.delegated("/") == false && ownership.delegated("/system.slice") == false)
        #expect(ownership.delegated("/open.slice") == true)
        #expect(ownership.delegated("/missing.slice") == nil)
        #expect(ownership.placement(of: "/system.slice/critical.service").unit == .system("critical.service"))
        #expect(ownership.placement(of: "/open.slice/critical.service").unit == nil)
        let missing = ownership.placement(of: "/missing.slice/critical.service")
        #expect(missing.unit == nil && missing.unverified != nil)
        if geteuid() == 0 {
            #expect(ownership.delegated("/given.slice") == true)
            #expect(ownership.placement(of: "/given.slice/critical.service").unit == nil)
        }
    }

    /// What `connections` shows for sockets whose holders it cannot see: the units by cgroup
    /// id, with nothing below a delegation point.
    @Test func theTreeByIDLeavesOutWhatIsBelowADelegationPoint() throws {
        let tree = try Self.tree()
        func inode(_ relative: String) throws -> UInt64 {
            try #require(try FileManager.default.attributesOfItem(atPath: tree.url(relative))[.systemFileNumber] as? UInt64)
        }
        let units = CgroupTree.unitsByID(root: tree.path, systemOwner: geteuid(), syscalls: .live)
        #expect(units[try inode("system.slice/critical.service")] == .system("critical.service"))
        #expect(units[try inode("open.slice/critical.service")] == nil)
        #expect(units[try inode("given.slice/critical.service")] == nil || geteuid() != 0)
    }
}

import Foundation
import KeepaliveTestKit
import Testing

/// `status` shows the originals saved for its own network namespace only: a record of the
/// same inode under another cookie is of a namespace that had the inode before, and ended
/// (issue 29, item 8). The originals file is the test's own, in its own runtime directory.
@Suite("status and the saved originals")
struct StatusOriginalsTests {
    /// This process's network namespace: its inode and its cookie (`SO_NETNS_COOKIE`).
    static func ownNamespace() throws -> (inode: UInt64, cookie: UInt64) {
        var status = stat()
        try #require(stat("/proc/self/ns/net", &status) == 0)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var cookie: UInt64 = 0
        var length = socklen_t(MemoryLayout<UInt64>.size)
        try #require(getsockopt(fd, SOL_SOCKET, 71, &cookie, &length) == 0, "SO_NETNS_COOKIE needs kernel 5.14")
        return (UInt64(status.st_ino), cookie)
    }

    @Test func statusShowsTheOriginalsOfItsOwnNamespaceNotOfOneThatHadItsInode() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n")
        let own = try Self.ownNamespace()
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let runtime = try harness.directory.makeDirectory("run")
        func save(cookie: UInt64) throws {
            let path = try harness.directory.write("run/originals", """
                keepalived-tune-originals 2
                boot \(boot)
                netns \(own.inode) cookie \(cookie) found 1764672600 values 1111/11/1

                """)
            #expect(chmod(path, 0o600) == 0)
        }
        try save(cookie: own.cookie == 1 ? 2 : own.cookie - 1)
        let stale = try harness.run("status", "--runtime-dir", runtime)
        #expect(stale.stdout.contains("originals: none saved in this boot"), "\(stale)")
        try save(cookie: own.cookie)
        let saved = try harness.run("status", "--runtime-dir", runtime)
        #expect(saved.stdout.contains("originals: 1111/11/1, found at first start, "), "\(saved)")
    }
}

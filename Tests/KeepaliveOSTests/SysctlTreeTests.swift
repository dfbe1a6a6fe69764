import Foundation
import KeepaliveModel
@testable import KeepaliveOS
import KeepaliveTestKit
import Testing

@Suite("Sysctl access against a temp dir standing in for /proc/sys")
struct SysctlTreeTests {
    @Test func readsAndWrites() throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path)
        #expect(tree.path(for: .time) == "\(root.path)/net/ipv4/tcp_keepalive_time")
        #expect(try tree.readAll() == KeepaliveValues(time: 7200, intvl: 75, probes: 9))
        try tree.write(.intvl, 30)
        #expect(try root.value("tcp_keepalive_intvl") == 30)
        #expect(try tree.read(.intvl) == 30)   // the kept-open descriptor sees the new value
    }

    @Test func missingFileIsReportedWithPathAndErrno() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: SysctlFailure(key: .time, path: directory.url("net/ipv4/tcp_keepalive_time"),
                                      operation: .read, errno: Errno(ENOENT))) {
            try SysctlTree(root: directory.path).read(.time)
        }
    }

    @Test func garbageIsNotAValue() throws {
        let root = try FakeSysctlRoot()
        try root.directory.write("net/ipv4/tcp_keepalive_probes", "lots\n")
        #expect(throws: SysctlFailure.self) { try SysctlTree(root: root.path).read(.probes) }
    }
}

@Suite("All-or-nothing apply")
struct ApplierTests {
    @Test func appliesOnlyWhatDiffers() throws {
        let root = try FakeSysctlRoot(time: 1800, intvl: 75, probes: 9)
        let report = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: SysctlTree(root: root.path))
        #expect(report.succeeded)
        #expect(report.before == KeepaliveValues(time: 1800, intvl: 75, probes: 9))
        #expect(report.changes == [ValueDifference(key: .intvl, expected: 30, actual: 75),
                                   ValueDifference(key: .probes, expected: 3, actual: 9)])
        #expect(try root.compact() == "1800/30/3")
        let again = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: SysctlTree(root: root.path))
        #expect(again.succeeded && again.changes.isEmpty)
    }

    @Test func unreadableValuesMeanNothingIsWritten() throws {
        let root = try FakeSysctlRoot()
        try FileManager.default.removeItem(atPath: root.directory.url("net/ipv4/tcp_keepalive_probes"))
        let report = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: SysctlTree(root: root.path))
        #expect(!report.succeeded)
        #expect(report.failures.map(\.operation) == [.read])
        #expect(try root.value("tcp_keepalive_time") == 7200)
        #expect(try root.value("tcp_keepalive_intvl") == 75)
    }

    /// Fails `pwrite` on one file with a chosen errno or, with no errno, makes it store
    /// `75` whatever was asked while reporting success, as a kernel that clamps a value
    /// would (the read-back must catch it). Built on the syscall seam.
    static func faulty(on file: String, errno code: Int32?) -> Syscalls {
        var calls = Syscalls.live
        let opened = OpenFiles()
        let realOpen = calls.open, realWrite = calls.pwrite, realClose = calls.close
        calls.open = { path, flags in
            let result = realOpen(path, flags)
            if case .success(let fd) = result, path.hasSuffix(file) { opened.insert(fd) }
            return result
        }
        calls.close = { fd in
            opened.remove(fd)
            realClose(fd)
        }
        calls.pwrite = { fd, bytes, offset in
            guard opened.contains(fd) else { return realWrite(fd, bytes, offset) }
            if let code { return .failure(Errno(code)) }
            let stored = Array("75\n".utf8)
            _ = stored.withUnsafeBytes { realWrite(fd, $0, offset) }
            return .success(bytes.count)
        }
        return calls
    }

    @Test("a failed write rolls back the keys already changed", arguments: [EACCES, EROFS, EINVAL])
    func rollbackOnWriteFailure(code: Int32) throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_probes", errno: code))
        let report = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: tree)
        #expect(!report.succeeded)
        #expect(report.failures == [SysctlFailure(key: .probes, path: tree.path(for: .probes), operation: .write,
                                                  value: 3, errno: Errno(code))])
        #expect(report.restored == [.time, .intvl])
        #expect(report.changes.isEmpty)
        #expect(try root.compact() == "7200/75/9")
        #expect(report.failures[0].description.hasSuffix("tcp_keepalive_probes: \(Errno(code).text) (\(Errno(code).name))"))
    }

    @Test func aReadBackMismatchRollsBack() throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_intvl", errno: nil))
        let report = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: tree)
        #expect(report.failures.map(\.operation) == [.readBack])
        #expect(report.failures.first?.description == "\(tree.path(for: .intvl)) did not keep 30: it reads back as 75")
        #expect(try root.compact() == "7200/75/9")
    }
}

/// The descriptors a faulty seam has opened on its target file.
final class OpenFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var fds: Set<Int32> = []
    func insert(_ fd: Int32) { lock.withLock { _ = fds.insert(fd) } }
    func contains(_ fd: Int32) -> Bool { lock.withLock { fds.contains(fd) } }
    func remove(_ fd: Int32) { lock.withLock { _ = fds.remove(fd) } }
}

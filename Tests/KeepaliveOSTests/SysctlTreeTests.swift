import Foundation
import KeepaliveModel
@testable import KeepaliveOS
import KeepaliveTestKit
import Testing

@Suite("Sysctl access against a temp dir standing in for /proc/sys")
struct SysctlTreeTests {
    @Test func readsAndWrites() throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path, syscalls: .live)
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
            try SysctlTree(root: directory.path, syscalls: .live).read(.time)
        }
    }

    @Test func valuesAreParsedAsTheKernelShowsThem() throws {
        let root = try FakeSysctlRoot()
        for (text, value) in [("1800\n", 1800), ("-1\n", -1), ("  30\t\n", 30), ("0", 0)] {
            try root.directory.write("net/ipv4/tcp_keepalive_time", text)
            #expect(try SysctlTree(root: root.path, syscalls: .live).read(.time) == value)
        }
        for text in ["", "\n", "12a\n", "--1", "99999999999999999999999\n", "1 2\n"] {
            try root.directory.write("net/ipv4/tcp_keepalive_time", text)
            #expect(throws: SysctlFailure.self, "\(text.debugDescription)") { try SysctlTree(root: root.path, syscalls: .live).read(.time) }
        }
    }

    @Test func garbageIsNotAValue() throws {
        let root = try FakeSysctlRoot()
        try root.directory.write("net/ipv4/tcp_keepalive_probes", "lots\n")
        #expect(throws: SysctlFailure.self) { try SysctlTree(root: root.path, syscalls: .live).read(.probes) }
    }
}

@Suite("All-or-nothing apply")
struct ApplierTests {
    @Test func appliesOnlyWhatDiffers() throws {
        let root = try FakeSysctlRoot(time: 1800, intvl: 75, probes: 9)
        let report = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: SysctlTree(root: root.path, syscalls: .live))
        #expect(report.succeeded)
        #expect(report.before == KeepaliveValues(time: 1800, intvl: 75, probes: 9))
        #expect(report.changes == [ValueDifference(key: .intvl, expected: 30, actual: 75),
                                   ValueDifference(key: .probes, expected: 3, actual: 9)])
        #expect(try root.compact() == "1800/30/3")
        let again = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: SysctlTree(root: root.path, syscalls: .live))
        #expect(again.succeeded && again.changes.isEmpty)
    }

    @Test func unreadableValuesMeanNothingIsWritten() throws {
        let root = try FakeSysctlRoot()
        try FileManager.default.removeItem(atPath: root.directory.url("net/ipv4/tcp_keepalive_probes"))
        let report = Applier.apply(KeepaliveValues(time: 1800, intvl: 30, probes: 3), to: SysctlTree(root: root.path, syscalls: .live))
        #expect(!report.succeeded)
        #expect(report.failures.map(\.operation) == [.read])
        #expect(try root.value("tcp_keepalive_time") == 7200)
        #expect(try root.value("tcp_keepalive_intvl") == 75)
    }

    /// A fault to inject into the syscall seam for one of the three files.
    enum Fault: Sendable, CustomTestStringConvertible {
        /// open(2) for writing fails.
        case openForWrite(Int32)
        /// pwrite(2) fails.
        case write(Int32)
        /// pwrite(2) writes only part of the bytes.
        case shortWrite
        /// pwrite(2) stores 75 whatever was asked and reports success, as a kernel that
        /// clamps a value would: only the read-back can tell.
        case clamp
        /// pread(2) fails from the `after`-th read of the file on (0: the first).
        case read(Int32, after: Int)

        var testDescription: String {
            switch self {
            case .openForWrite(let code): "open for write: \(Errno(code).name)"
            case .write(let code): "write: \(Errno(code).name)"
            case .shortWrite: "short write"
            case .clamp: "read-back mismatch"
            case .read(let code, let after): "read #\(after): \(Errno(code).name)"
            }
        }
    }

    /// The live seam with `fault` injected for the file whose name ends in `file`. Write
    /// faults hit the first write only, as a transient failure would, so the rollback that
    /// follows can succeed; a read fault persists.
    static func faulty(on file: String, _ fault: Fault) -> Syscalls {
        var calls = Syscalls.live
        let opened = OpenFiles()
        let realOpen = calls.open, realWrite = calls.pwrite, realRead = calls.pread, realClose = calls.close
        calls.open.body = { path, flags in
            if path.hasSuffix(file), flags & O_WRONLY != 0, case .openForWrite(let code) = fault { return .failure(Errno(code)) }
            let result = realOpen(path, flags)
            if case .success(let fd) = result, path.hasSuffix(file) { opened.insert(fd) }
            return result
        }
        calls.close.body = { fd in
            opened.remove(fd)
            realClose(fd)
        }
        calls.pwrite.body = { fd, bytes, offset in
            guard opened.contains(fd), opened.countWrite() == 0 else { return realWrite(fd, bytes, offset) }
            switch fault {
            case .write(let code): return .failure(Errno(code))
            case .shortWrite: return realWrite(fd, UnsafeRawBufferPointer(rebasing: bytes.prefix(1)), offset)
            case .clamp:
                let stored = Array("75\n".utf8)
                _ = stored.withUnsafeBytes { realWrite(fd, $0, offset) }
                return .success(bytes.count)
            default: return realWrite(fd, bytes, offset)
            }
        }
        calls.pread.body = { fd, buffer, offset in
            if opened.contains(fd), case .read(let code, let after) = fault, opened.countRead() >= after {
                return .failure(Errno(code))
            }
            return realRead(fd, buffer, offset)
        }
        return calls
    }

    static let target = KeepaliveValues(time: 1800, intvl: 30, probes: 3)

    @Test("any fault during a write leaves every value as it was, and is reported", arguments: [
        Fault.openForWrite(EACCES), .openForWrite(EROFS), .openForWrite(ENOENT), .openForWrite(EPERM),
        .write(EINVAL), .write(EACCES), .write(EROFS), .write(EIO), .shortWrite, .clamp, .read(EIO, after: 1),
    ])
    func allOrNothing(fault: Fault) throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_probes", fault))
        let report = Applier.apply(Self.target, to: tree)
        #expect(!report.succeeded)
        #expect(report.changes.isEmpty)
        #expect(report.failures.count == 1, "\(report.failures)")
        #expect(report.failures.first?.key == .probes)
        #expect(report.failures.first?.path == tree.path(for: .probes))
        // The keys written before the failure are put back; so is the failed key itself when
        // its state is unknown (clamped, or unreadable after the write).
        #expect(Array(report.restored.prefix(2)) == [.time, .intvl])
        #expect(try root.compact() == "7200/75/9")
    }

    @Test func theFailureSaysWhatWhereAndWhy() throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_probes", .write(EINVAL)))
        let failure = try #require(Applier.apply(Self.target, to: tree).failures.first)
        #expect(failure.description == "cannot write 3 to \(tree.path(for: .probes)): Invalid argument (EINVAL)")
        let short = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_intvl", .shortWrite))
        #expect(Applier.apply(Self.target, to: short).failures.first?.description == "cannot write 30 to \(short.path(for: .intvl)): short write: 1 of 3 bytes")
        let clamped = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_intvl", .clamp))
        #expect(Applier.apply(Self.target, to: clamped).failures.first?.description == "\(clamped.path(for: .intvl)) did not keep 30: it reads back as 75")
    }

    @Test func anEIOBeforeWritingMeansNothingIsWritten() throws {
        let root = try FakeSysctlRoot()
        let tree = SysctlTree(root: root.path, syscalls: Self.faulty(on: "tcp_keepalive_intvl", .read(EIO, after: 0)))
        let report = Applier.apply(Self.target, to: tree)
        #expect(report.failures.map(\.operation) == [.read])
        #expect(report.failures.first?.errno == Errno(EIO))
        #expect(report.restored.isEmpty)
        #expect(try root.compact() == "7200/75/9")
    }
}

/// The descriptors a faulty seam has opened on its target file, and how often it was read.
final class OpenFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var fds: Set<Int32> = []
    private var reads = 0
    func insert(_ fd: Int32) { lock.withLock { _ = fds.insert(fd) } }
    func contains(_ fd: Int32) -> Bool { lock.withLock { fds.contains(fd) } }
    func remove(_ fd: Int32) { lock.withLock { _ = fds.remove(fd) } }
    private var writes = 0
    /// Counts a read and returns how many came before it.
    func countRead() -> Int { lock.withLock { defer { reads += 1 }; return reads } }
    /// Counts a write and returns how many came before it.
    func countWrite() -> Int { lock.withLock { defer { writes += 1 }; return writes } }
}

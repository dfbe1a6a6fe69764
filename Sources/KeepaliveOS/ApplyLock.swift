import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// The one lock every writer of the keepalive values takes: `apply`, and the daemon's
/// start, reloads, corrections and restore. `flock(2)` on `RUNTIME/apply.lock`, held from
/// the first read of an apply to its last read-back, so two writers can never interleave
/// and leave a mix of two profiles.
///
/// The lock file also says who wrote last: a command leaves a ``WriterRecord`` in it, so
/// that the daemon can tell an admin's `keepalived-tune apply` from another program that
/// fights over the values.
public final class ApplyLock: Sendable {
    /// The runtime directory holding the lock.
    public let directory: String
    /// How long a writer waits for the lock before it gives up and says who holds it.
    public let patience: Interval
    private let syscalls: Syscalls

    /// The lock file in `directory`, waited for up to `patience`, through `syscalls`.
    public init(directory: String, patience: Interval = .seconds(2), syscalls: Syscalls) {
        self.directory = directory
        self.patience = patience
        self.syscalls = syscalls
    }

    /// The lock file's path.
    public var path: String { "\(directory)/apply.lock" }

    /// Why the lock could not be taken.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let errno: Errno?
        public var description: String {
            errno.map { "cannot take the lock \(path): \($0)" }
                ?? "another keepalived-tune is writing the keepalive values (the lock \(path) stayed held)"
        }
    }

    /// Runs `body` holding the lock; with `record`, leaves it in the lock file for later
    /// readers of ``lastWriter()``.
    public func withLock<T>(record: WriterRecord? = nil, _ body: () -> T) -> Result<T, Failure> {
        if case .failure(let error) = syscalls.makeDirectory(directory, 0o755), error.code != EEXIST {
            return .failure(Failure(path: path, errno: error))
        }
        let fd: Int32
        switch syscalls.open(path, O_RDWR | O_CREAT | O_NOFOLLOW) {
        case .success(let opened): fd = opened
        case .failure(let error): return .failure(Failure(path: path, errno: error))
        }
        defer { syscalls.close(fd) }   // closing the descriptor releases the lock
        let giveUp = MonotonicClock.now() + patience
        while case .failure(let error) = syscalls.lockFile(fd) {
            guard error.code == EWOULDBLOCK, MonotonicClock.now() < giveUp else {
                return .failure(Failure(path: path, errno: error.code == EWOULDBLOCK ? nil : error))
            }
            usleep(1000)   // an apply holds it for well under a millisecond
        }
        if let record {
            let bytes = Array(record.text.utf8)
            _ = syscalls.ftruncate(fd, 0)
            _ = bytes.withUnsafeBytes { syscalls.pwrite(fd, $0, 0) }
        }
        return .success(body())
    }

    /// The record the last command left, if any.
    public func lastWriter() -> WriterRecord? {
        FileReader.smallFile(path, syscalls: syscalls).flatMap(WriterRecord.init(text:))
    }
}

/// Who wrote the keepalive values last, as a command leaves it in the lock file:
/// `pid=123 netns=4026531840 values=1800/30/3 at=1234567890` (`at`: CLOCK_MONOTONIC µs).
public struct WriterRecord: Sendable, Hashable {
    public let pid: Int32
    /// The network namespace written (its inode).
    public let netns: UInt64
    public let values: KeepaliveValues
    public let at: Instant

    public init(pid: Int32, netns: UInt64, values: KeepaliveValues, at: Instant) {
        self.pid = pid
        self.netns = netns
        self.values = values
        self.at = at
    }

    var text: String { "pid=\(pid) netns=\(netns) values=\(values.compact) at=\(at.microseconds)\n" }

    init?(text: String) {
        guard let fields = KeepaliveValues.recordFields(text), let pid = fields["pid"].flatMap({ Int32($0) }),
              let netns = fields["netns"].flatMap({ UInt64($0) }), let at = fields["at"].flatMap({ UInt64($0) }),
              let values = fields["values"].flatMap(KeepaliveValues.init(compact:)) else { return nil }
        self.init(pid: pid, netns: netns, values: values, at: Instant(microseconds: at))
    }
}

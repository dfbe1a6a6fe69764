import CTestSupport
import Foundation

/// A child process that gets exactly the descriptors it is given.
///
/// Foundation's `Process` is not used by the tests: it hands its children a socket of its
/// own, and it closes the parent's other descriptors from a list read before the spawn, so a
/// file another thread opens at that moment leaks into the child. A config file written by
/// one test could then stay open in another test's child and end, with an `IN_CLOSE_WRITE`,
/// seconds later (issue 25). Here the child's 0, 1 and 2 are set and everything above is
/// closed inside the child (`kt_spawn`), and every descriptor the parent keeps is
/// close-on-exec.
public final class SpawnedProcess: @unchecked Sendable {
    /// Where one of the child's standard descriptors comes from or goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// A pipe whose other end this object keeps (``input``, ``output``, ``error``).
        case pipe
        /// A pipe whose other end is closed at once: the child reads EOF or writes get EPIPE.
        case closedPipe
        /// A descriptor of this process, which the child gets a copy of (the caller keeps its own).
        case descriptor(Int32)
    }

    /// The process id.
    public let pid: pid_t
    /// The write end of the child's stdin, when it is ``Stream/pipe``.
    public let input: FileHandle?
    /// The read end of the child's stdout, when it is ``Stream/pipe``.
    public let output: FileHandle?
    /// The read end of the child's stderr, when it is ``Stream/pipe``.
    public let error: FileHandle?
    private let exit = ExitStatus()

    /// Starts `arguments[0]`, found in PATH by env(1), with the rest as its arguments.
    public init(_ arguments: [String], environment: [String: String]? = nil,
                stdin: Stream = .null, stdout: Stream = .null, stderr: Stream = .null) throws {
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        func end(_ stream: Stream, childReads: Bool) throws -> (child: Int32, parent: FileHandle?) {
            switch stream {
            case .null:
                let fd = open("/dev/null", (childReads ? O_RDONLY : O_WRONLY) | O_CLOEXEC)
                guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                childEnds.append(fd)
                return (fd, nil)
            case .descriptor(let fd):
                return (fd, nil)
            case .pipe, .closedPipe:
                var ends: [Int32] = [-1, -1]
                guard kt_pipe_cloexec(&ends) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EMFILE) }
                let (child, parent) = childReads ? (ends[0], ends[1]) : (ends[1], ends[0])
                childEnds.append(child)
                if case .closedPipe = stream {
                    close(parent)
                    return (child, nil)
                }
                return (child, FileHandle(fileDescriptor: parent, closeOnDealloc: true))
            }
        }
        let inEnd = try end(stdin, childReads: true)
        let outEnd = try end(stdout, childReads: false)
        let errEnd = try end(stderr, childReads: false)
        input = inEnd.parent
        output = outEnd.parent
        error = errEnd.parent
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        let envp = (environment ?? ChildProcess.environment()).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = kt_spawn(&child, "/usr/bin/env", argv, envp, inEnd.child, outEnd.child, errEnd.child)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO) }
        let spawned = child
        pid = spawned
        let exit = self.exit
        Thread { exit.reap(spawned) }.start()
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { exit.status == nil }

    /// Sends `signal` to the child, unless it has already been reaped (its PID may be reused).
    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits for the child to exit: its exit code, or the signal that ended it (as
    /// Foundation's `terminationStatus` reports it).
    @discardableResult
    public func wait() -> Int32 { exit.wait(until: nil)! }

    /// Waits up to `timeout` seconds; the status as ``wait()`` gives it, or `nil`.
    public func wait(timeout: Double) -> Int32? { exit.wait(until: Date(timeIntervalSinceNow: timeout)) }

    /// The exit status, set once by the thread that reaps the child.
    private final class ExitStatus: @unchecked Sendable {
        private let condition = NSCondition()
        private var value: Int32?

        var status: Int32? {
            condition.lock()
            defer { condition.unlock() }
            return value
        }

        func reap(_ pid: pid_t) {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            let low = raw & 0x7f
            condition.lock()
            value = low == 0 ? (raw >> 8) & 0xff : low
            condition.broadcast()
            condition.unlock()
        }

        /// Waits until the child is reaped, or until `deadline` when there is one.
        func wait(until deadline: Date?) -> Int32? {
            condition.lock()
            defer { condition.unlock() }
            while value == nil {
                guard let deadline else {
                    condition.wait()
                    continue
                }
                if !condition.wait(until: deadline) { return value }
            }
            return value
        }
    }
}

import Foundation

/// A FIFO that a test puts where a plain file is expected (a runtime's state file, a mount
/// table), and a bounded wait for code that may block on it: open(2) of a FIFO for reading
/// waits for a writer, read(2) for data.
public struct FIFO: Sendable {
    /// Its absolute path.
    public let path: String

    /// Makes a FIFO at `path` (mode 0644), in place of any file there.
    public init(at path: String) throws {
        unlink(path)
        guard mkfifo(path, 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        self.path = path
    }

    /// What ``run(giveUpAfter:_:)`` saw.
    public struct Outcome<Value: Sendable>: Sendable {
        /// Whether `body` ended within the bound, with nobody opening the FIFO's other end.
        public let endedAlone: Bool
        /// What `body` returned (after it was let go, if it had to be).
        public let value: Value
    }

    /// Runs `body` on a thread of its own and waits for it at most `seconds` (a guard
    /// against a hang, never a measure of speed). A body still running then is blocked on
    /// the FIFO: its other end is opened and closed again, so that the blocked open(2)
    /// returns and the read after it meets end-of-file, until the body ends. The suite never
    /// hangs, whatever the code under test does.
    public func run<Value: Sendable>(giveUpAfter seconds: Double = MessageLog.defaultTimeout,
                                     _ body: @escaping @Sendable () -> Value) -> Outcome<Value> {
        let done = DispatchSemaphore(value: 0)
        let result = Box<Value>()
        Thread {
            result.value = body()
            done.signal()
        }.start()
        if done.wait(timeout: .now() + seconds) == .success { return Outcome(endedAlone: true, value: result.value!) }
        // Blocked: let it go. O_NONBLOCK, so that this open never waits itself (ENXIO while
        // no reader has the FIFO open: the body has moved on, or is about to open it again).
        repeat {
            let writer = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if writer >= 0 { close(writer) }
        } while done.wait(timeout: .now() + 0.05) == .timedOut
        return Outcome(endedAlone: false, value: result.value!)
    }

    private final class Box<Value>: @unchecked Sendable {
        var value: Value?
    }
}

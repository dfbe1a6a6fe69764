import Foundation

/// A child process the test talks to line by line: commands on its stdin, one answer line
/// each on its stdout. Closing stdin (``finish()``, or this process dying) tells it to end.
///
/// Reads wait in poll(2) with a limit, so a child that hangs fails the test instead of
/// hanging it; nothing waits by sleeping. Spawned as every test child is (``SpawnedProcess``):
/// it gets its three pipes and nothing else.
public final class LineChild: @unchecked Sendable {
    private let process: SpawnedProcess
    private let input: FileHandle
    private let output: FileHandle
    private let errors: FileHandle
    private var buffer: [UInt8] = []
    private var finished = false
    /// The child's PID (the same after exec(3), as with `unshare` without `--fork`).
    public let pid: Int32
    /// What it is, for messages.
    public let label: String

    /// A child that failed to answer or exited early.
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `arguments` (the first searched in PATH).
    public init(_ arguments: [String], label: String) throws {
        self.label = label
        process = try SpawnedProcess(arguments, stdin: .pipe, stdout: .pipe, stderr: .pipe)
        input = process.input!
        output = process.output!
        errors = process.error!
        pid = process.pid
    }

    /// Ends the child: see ``finish()``.
    deinit { finish() }

    /// Sends one line.
    public func send(_ line: String) {
        input.write(Data((line + "\n").utf8))
    }

    /// The next line of output, waiting at most `timeout` seconds.
    public func line(timeout: Double = MessageLog.defaultTimeout) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let fd = output.fileDescriptor
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failed(description: "\(label) did not answer within \(Int(timeout)) s") }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32(left * 1000)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 {
                let status = process.wait()
                let stderr = String(decoding: errors.readDataToEndOfFile(), as: UTF8.self)
                throw Failed(description: "\(label) exited (\(status)) without answering; stderr: \(stderr)")
            }
            buffer += chunk[..<count]
        }
    }

    /// Sends `command` and returns the answer line.
    public func ask(_ command: String, timeout: Double = MessageLog.defaultTimeout) throws -> String {
        send(command)
        return try line(timeout: timeout)
    }

    /// Everything the child wrote to stderr: waits for it to exit first (``finish()``).
    public func standardError() -> String {
        finish()
        return String(decoding: errors.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Closes the child's stdin and waits for it to exit; its exit status.
    @discardableResult
    public func finish() -> Int32 {
        if !finished {
            finished = true
            try? input.close()
        }
        return process.wait()
    }
}

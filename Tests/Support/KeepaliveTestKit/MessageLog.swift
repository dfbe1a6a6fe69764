import Foundation

/// Messages (`[FIELD: VALUE]`) collected by a background reader, which tests wait on.
public final class MessageLog: @unchecked Sendable {
    private let condition = NSCondition()
    private var messages: [[String: String]] = []

    /// How long a test waits for an expected event by default: generous, since it only
    /// bounds a wait for something that should happen, and CI may be a busy machine.
    public static let defaultTimeout: Double = 30

    public init() {}

    /// Adds a message and wakes the waiters.
    func append(_ message: [String: String]) {
        condition.lock()
        messages.append(message)
        condition.broadcast()
        condition.unlock()
    }

    /// Every message so far.
    public var all: [[String: String]] {
        condition.lock()
        defer { condition.unlock() }
        return messages
    }

    /// Waits for the first message at or after index `from` that satisfies `predicate`.
    ///
    /// - Returns: the message and its index, or `nil` if none came within `timeout` seconds.
    public func wait(from: Int = 0, timeout: Double = MessageLog.defaultTimeout,
                     _ predicate: ([String: String]) -> Bool) -> (message: [String: String], index: Int)? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        var next = from
        while true {
            while next < messages.count {
                if predicate(messages[next]) { return (messages[next], next) }
                next += 1
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }
}

/// `journalctl -D DIR -f -o json` in the background: every entry journald stores, as it
/// stores it.
public final class JournalFollower: @unchecked Sendable {
    public let entries = MessageLog()
    private let process: SpawnedProcess

    /// Follows the journal files under `directory` from their beginning.
    public init(directory: String) throws {
        process = try SpawnedProcess(["journalctl", "-D", directory, "-f", "-o", "json", "--no-tail", "--no-pager"],
                                     stdout: .pipe)
        let entries = self.entries
        readLines(from: process.output!) { line in
            if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] {
                entries.append(object.compactMapValues { $0 as? String })
            }
        }
    }

    deinit {
        // journalctl -f keeps SIGTERM blocked while it waits for changes.
        process.signal(SIGKILL)
        process.wait()
    }
}

/// Reads `handle` to its end on a thread of its own, handing each line (without its newline)
/// to `each`.
public func readLines(from handle: FileHandle, _ each: @escaping @Sendable (Data) -> Void) {
    Thread {
        var pending = Data()
        while case let chunk = handle.availableData, !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                each(Data(pending[pending.startIndex..<newline]))
                pending = Data(pending[(newline + 1)...])
            }
        }
    }.start()
}

import Foundation
import InMemoryLogging
import KeepaliveTestKit
import Logging

/// The entries an in-process test's code logs, collected by swift-log's InMemoryLogHandler,
/// with a wait for an entry that another thread (the connections audit's) records: each
/// entry signals a condition, so the wait is for the event, never a sleep.
final class LoggedEvents: Sendable {
    /// Where the entries are kept.
    let memory = InMemoryLogHandler()
    private let condition = NSCondition()

    /// A logger whose entries land here.
    var logger: Logger {
        let handler = Signalling(inner: memory, condition: condition)
        return Logger(label: "test") { _ in handler }
    }

    /// Every entry so far, each as its metadata fields as text, with its `MESSAGE`.
    var events: [[String: String]] {
        memory.entries.map { entry in entry.metadata.mapValues { "\($0)" }.merging(["MESSAGE": "\(entry.message)"]) { $1 } }
    }

    /// The first entry of kind `event` that `predicate` accepts, once it is logged; `nil`
    /// if none comes within `timeout` seconds (a bound against a hang, not a verdict).
    func await(_ event: String, timeout: Double = MessageLog.defaultTimeout,
               where predicate: ([String: String]) -> Bool = { _ in true }) -> [String: String]? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let found = events.first(where: { $0["EVENT"] == event && predicate($0) }) { return found }
            guard condition.wait(until: deadline) else { return events.first { $0["EVENT"] == event && predicate($0) } }
        }
    }

    /// Forwards each entry to the in-memory handler, then wakes the waiters.
    private struct Signalling: LogHandler {
        var inner: InMemoryLogHandler
        let condition: NSCondition

        var metadata: Logger.Metadata {
            get { inner.metadata }
            set { inner.metadata = newValue }
        }

        var logLevel: Logger.Level {
            get { inner.logLevel }
            set { inner.logLevel = newValue }
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { inner[metadataKey: key] }
            set { inner[metadataKey: key] = newValue }
        }

        /// Keeps the entry (under the condition's lock, so a waiter cannot miss it), then
        /// wakes every waiter.
        func log(event: LogEvent) {
            condition.lock()
            inner.log(event: event)
            condition.broadcast()
            condition.unlock()
        }
    }
}

import Synchronization

/// The system calls made through a recording seam, in order (see
/// ``Syscalls/recording(into:)``). For tests: "an unchanged check makes exactly three
/// `pread`s" is a statement about this list.
public final class SyscallTrace: Sendable {
    /// One call: its name (`pread`, `open`, `poll`, ...) and what it was made on.
    public struct Call: Sendable, Hashable, CustomStringConvertible {
        /// The entry's name (``SyscallEntry/name``).
        public let name: String
        /// The descriptor, path or size the call was made with, as text.
        public let subject: String
        /// `name(subject)`.
        public var description: String { "\(name)(\(subject))" }
    }

    private let recorded = Mutex<[Call]>([])

    /// An empty trace.
    public init() {}

    /// Every call so far.
    public var calls: [Call] { recorded.withLock { $0 } }

    /// The names of the calls so far, in order.
    public var names: [String] { calls.map(\.name) }

    /// Forgets the calls so far (to trace one step).
    public func clear() { recorded.withLock { $0.removeAll() } }

    /// Adds one call.
    func record(_ name: String, _ subject: String) {
        recorded.withLock { $0.append(Call(name: name, subject: subject)) }
    }
}

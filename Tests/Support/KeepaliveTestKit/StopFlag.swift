import Foundation

/// A flag one thread raises and another polls, safely.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    public init() {}

    /// Raises the flag.
    public func raise() { lock.withLock { raised = true } }

    /// Whether the flag is raised.
    public var isRaised: Bool { lock.withLock { raised } }
}

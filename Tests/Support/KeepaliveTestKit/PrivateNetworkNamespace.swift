import CTestSupport
import Foundation

/// Runs code against the real /proc/sys of a private network namespace, inside this
/// test process.
///
/// A dedicated thread (never a cooperative-pool thread) calls unshare(CLONE_NEWNET); files
/// it opens under /proc/sys/net belong to the new namespace, whose keepalive values start
/// at 7200/75/9 and are really writable. The host's values are never touched. Needs
/// CAP_SYS_ADMIN (root); unprivileged runs use `unshare -rn` child processes instead.
public enum PrivateNetworkNamespace {
    /// Why in-process namespaces cannot be used here, or `nil` if they can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "in-process network namespaces need root (CAP_SYS_ADMIN)" }
        do {
            try run { }
            return nil
        } catch {
            return "unshare(CLONE_NEWNET) failed here: \(error)"
        }
    }()

    /// Runs `body` on a new thread inside a new network namespace and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let thread = Thread {
            if kt_unshare_network() != 0 {
                box.result = .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM))
            } else {
                box.result = Result { try body() }
            }
            box.done.signal()
        }
        thread.start()
        box.done.wait()
        return try box.result!.get()
    }

    private final class ResultBox<T: Sendable>: @unchecked Sendable {
        var result: Result<T, any Error>?
        let done = DispatchSemaphore(value: 0)
    }
}

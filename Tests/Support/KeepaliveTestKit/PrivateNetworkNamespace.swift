import CTestSupport
import Foundation

/// A thread of this test process that lives in a private network namespace of its own.
///
/// The thread calls unshare(CLONE_NEWNET) and then runs the closures it is given, one at
/// a time. Files it opens under /proc/sys/net, and processes it spawns, belong to the new
/// namespace: its keepalive values start at 7200/75/9, are really writable, and the host's
/// are never touched. The namespace lives while the thread (or a process in it) does.
/// Needs CAP_SYS_ADMIN (root); unprivileged runs use `unshare -rn` child processes instead.
public final class PrivateNetworkNamespace: @unchecked Sendable {
    /// Why in-process namespaces cannot be used here, or `nil` if they can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "in-process network namespaces need root (CAP_SYS_ADMIN)" }
        do {
            _ = try PrivateNetworkNamespace()
            return nil
        } catch {
            return "unshare(CLONE_NEWNET) failed here: \(error)"
        }
    }()

    private let worker = Worker()

    /// Starts the thread and moves it into a new network namespace.
    public init() throws {
        let worker = self.worker
        Thread { worker.serve() }.start()
        try worker.awaitStart()
    }

    deinit { worker.finish() }

    /// Runs `body` on the namespace's thread and returns its result.
    public func run<T>(_ body: @escaping () throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        worker.submit {
            result = Result { try body() }
            done.signal()
        }
        done.wait()
        return try result!.get()
    }

    /// The thread's state, owned by the thread itself so it outlives this object.
    private final class Worker: @unchecked Sendable {
        let condition = NSCondition()
        var work: [() -> Void] = []
        var finished = false
        var started = false
        var setupError: (any Error)?

        func serve() {
            condition.lock()
            if kt_unshare_network() != 0 { setupError = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM) }
            started = true
            condition.broadcast()
            let failed = setupError != nil
            condition.unlock()
            if failed { return }
            while true {
                condition.lock()
                while work.isEmpty && !finished { condition.wait() }
                if work.isEmpty {
                    condition.unlock()
                    return
                }
                let next = work.removeFirst()
                condition.unlock()
                next()
            }
        }

        func awaitStart() throws {
            condition.lock()
            defer { condition.unlock() }
            while !started { condition.wait() }
            if let setupError { throw setupError }
        }

        func submit(_ item: @escaping () -> Void) {
            condition.lock()
            work.append(item)
            condition.broadcast()
            condition.unlock()
        }

        func finish() {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Runs `body` once in a fresh private network namespace.
    public static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        try PrivateNetworkNamespace().run(body)
    }

    /// The namespace's inode (`/proc/thread-self/ns/net` of its thread).
    public func inode() throws -> UInt64 {
        try run { try PrivateNetworkNamespace.threadInode() }
    }

    /// The calling thread's network namespace inode.
    static func threadInode() throws -> UInt64 {
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
        guard link.hasPrefix("net:["), link.hasSuffix("]"), let inode = UInt64(link.dropFirst(5).dropLast()) else {
            throw POSIXError(.EINVAL)
        }
        return inode
    }

    /// A new namespace that the kernel gave `inode`, the inode of one that ended, or `nil`
    /// if none did within `attempts` namespaces.
    ///
    /// The kernel hands out the lowest free nsfs inode number, and frees a namespace's a
    /// moment after it ends (its cleanup runs on a kernel worker). So namespaces are made
    /// one after another: each given a lower number is held (it would come back next time),
    /// each given a higher one is let go, until one gets `inode`. A count of namespaces
    /// bounds the hunt, never a timer.
    public static func reusing(inode: UInt64, attempts: Int = 500) throws -> PrivateNetworkNamespace? {
        var held: [PrivateNetworkNamespace] = []
        defer { held.removeAll() }
        for _ in 0..<attempts {
            let candidate = try PrivateNetworkNamespace()
            let found = try candidate.inode()
            if found == inode { return candidate }
            if found < inode { held.append(candidate) }
        }
        return nil
    }

    /// Makes a namespace, hands it to `note` (which records what the test needs of it), lets
    /// it end, and finds the namespace the kernel then gives its inode (``reusing(inode:attempts:)``).
    /// On a busy machine another process may take the inode first and keep it: then the round
    /// is made again with a new namespace, up to `rounds` times. `nil` if every round lost.
    public static func ending<T>(rounds: Int = 5, attempts: Int = 500, _ note: (PrivateNetworkNamespace) throws -> T)
        throws -> (noted: T, inode: UInt64, reused: PrivateNetworkNamespace)? {
        for _ in 0..<rounds {
            var ended: PrivateNetworkNamespace? = try PrivateNetworkNamespace()
            let inode = try ended!.inode()
            let noted = try note(ended!)
            ended = nil
            if let reused = try reusing(inode: inode, attempts: attempts) { return (noted, inode, reused) }
        }
        return nil
    }
}

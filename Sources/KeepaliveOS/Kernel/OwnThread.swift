#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread running one closure: for work that must not share the daemon loop's
/// thread (the connections audit) or must move into another namespace (``NetworkNamespace``).
/// Foundation's `Thread` is left out to keep the daemon's binary and memory small.
public struct OwnThread: @unchecked Sendable {
    let handle: pthread_t

    /// Starts `body` on a new thread.
    public static func start(_ body: @escaping @Sendable () -> Void) -> Result<OwnThread, Errno> {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var handle = pthread_t()
        let raw = Unmanaged.passRetained(Box(body)).toOpaque()
        let created = pthread_create(&handle, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, raw)
        guard created == 0 else {
            Unmanaged<Box>.fromOpaque(raw).release()
            return .failure(Errno(created))
        }
        return .success(OwnThread(handle: handle))
    }

    /// Waits for the thread to end.
    public func join() { pthread_join(handle, nil) }
}

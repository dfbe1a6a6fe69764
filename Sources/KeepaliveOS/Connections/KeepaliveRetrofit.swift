import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a ``RetrofitPlan``: SO_KEEPALIVE on each target socket, through a
/// `pidfd_getfd` duplicate of one of its holders' descriptors. No per-socket timing is set,
/// so the namespace's profile governs. A socket that already has keepalive is left as it
/// is; nothing is ever closed.
public struct KeepaliveRetrofit: Sendable {
    /// What happened to one target.
    public enum Outcome: Sendable, Hashable {
        case enabled
        case alreadyOn
        case failed(Errno)
    }

    let access: SocketAccess

    /// A retrofit whose descriptor copies and socket options go through `syscalls`.
    public init(syscalls: Syscalls) { access = SocketAccess(syscalls: syscalls) }

    /// Enables keepalive on every target; returns each target's outcome, in plan order.
    public func apply(_ plan: RetrofitPlan) -> [(target: RetrofitPlan.Target, outcome: Outcome)] {
        plan.targets.map { target in
            var outcome = Outcome.failed(Errno(ESRCH))
            for holder in target.holders {
                switch access.enableKeepalive(pid: holder.pid, fd: holder.fd) {
                case .success(let changed): outcome = changed ? .enabled : .alreadyOn
                case .failure(let error):
                    outcome = .failed(error)
                    if error.code == EBADF || error.code == ESRCH { continue }   // that holder let go; try the next
                }
                break
            }
            return (target, outcome)
        }
    }
}

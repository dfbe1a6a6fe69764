import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a ``RetrofitPlan``: SO_KEEPALIVE on each target socket, through a
/// `pidfd_getfd` duplicate of one of its selected holders' descriptors. No per-socket timing
/// is set, so the namespace's profile governs. A socket that already has keepalive is left
/// as it is; nothing is ever closed.
///
/// The world moves between the scan and the change: a connection closes, a process exits.
/// That is no failure, there is nothing left to give keepalive to: such a target is
/// ``Outcome/gone(_:)``, counted apart from the failures.
public struct KeepaliveRetrofit: Sendable {
    /// What happened to one target.
    public enum Outcome: Sendable, Hashable {
        /// SO_KEEPALIVE was off and is on now.
        case enabled
        /// It was on already; nothing was changed.
        case alreadyOn
        /// No selected holder had the socket any more (the last one's reason).
        case gone(Vanished)
        /// The kernel refused (EPERM without ptrace rights, ...).
        case failed(Errno)
    }

    /// One target's outcome, and the holder it was reached through (or, when none was, the
    /// last one tried).
    public struct Result: Sendable {
        public let target: RetrofitPlan.Target
        public let holder: SocketHolder
        public let outcome: Outcome
    }

    let access: SocketAccess

    /// A retrofit through `syscalls`.
    public init(syscalls: Syscalls = .live) { access = SocketAccess(syscalls: syscalls) }

    /// Enables keepalive on every target, in plan order. `beforeAction` runs once, after the
    /// plan is taken in and before the first change (a test's pause point).
    public func apply(_ plan: RetrofitPlan, beforeAction: () -> Void = {}) -> [Result] {
        beforeAction()
        return plan.targets.map { target in
            var outcome = Outcome.gone(.exited), through = target.holders[0]
            for holder in target.holders {
                through = holder
                switch access.enableKeepalive(pid: holder.pid, fd: holder.fd) {
                case .success(let changed): outcome = changed ? .enabled : .alreadyOn
                case .failure(.vanished(let why)):
                    outcome = .gone(why)
                    continue   // that holder let go; try the next
                case .failure(.failed(let error)): outcome = .failed(error)
                }
                break
            }
            return Result(target: target, holder: through, outcome: outcome)
        }
    }
}

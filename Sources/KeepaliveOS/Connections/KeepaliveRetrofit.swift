import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a ``RetrofitPlan``: SO_KEEPALIVE on each target socket, through a
/// `pidfd_getfd` duplicate of one of its selected holders' descriptors. No per-socket timing
/// is set, so the namespace's profile governs. A socket that already has keepalive is left
/// as it is; nothing is ever closed.
///
/// Identity is checked at the moment of action: the process through the pidfd opened when
/// the plan was taken in (``PlannedProcesses``), the socket on the duplicate itself, just
/// before `setsockopt` (``SocketIdentity``: its inode, family and protocol). A descriptor
/// that holds another socket now is left alone.
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
    let syscalls: Syscalls
    let procRoot: String

    /// A retrofit through `syscalls`, of the processes under `procRoot` (the scan's).
    public init(syscalls: Syscalls, procRoot: String = "/proc") {
        access = SocketAccess(syscalls: syscalls)
        self.syscalls = syscalls
        self.procRoot = procRoot
    }

    /// Enables keepalive on every target, in plan order, each through the pidfd of one of
    /// its holders: opened for every holder first and checked against `processes` (the
    /// scan's, see ``PlannedProcesses``). `beforeAction` runs once, after that and before
    /// the first change (a test's pause point).
    public func apply(_ plan: RetrofitPlan, processes: [Int32: HolderProcess], beforeAction: () -> Void = {}) -> [Result] {
        let planned = PlannedProcesses(plan.targets.lazy.flatMap { $0.holders.map(\.pid) }, scanned: processes,
                                       procRoot: procRoot, syscalls: syscalls)
        defer { planned.close() }
        beforeAction()
        return plan.targets.map { target in
            var outcome = Outcome.gone(.exited), through = target.holders[0]
            for holder in target.holders {
                through = holder
                let result: Swift.Result<Bool, SocketAccess.Failure>
                switch planned.handles[holder.pid] {
                case .open(let pidfd)?: result = access.enableKeepalive(pidfd: pidfd, fd: holder.fd, expecting: SocketIdentity(target.socket))
                case .vanished(let why)?: result = .failure(.vanished(why))
                case .failed(let error)?: result = .failure(.failed(error))
                case nil: result = .failure(.vanished(.exited))
                }
                switch result {
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

import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// The processes a retrofit acts through, each held by a pidfd opened as soon as the plan is
/// taken in, before anything is changed.
///
/// A pidfd refers to one process, not to a PID: once that process exits, every
/// `pidfd_getfd` through it is ESRCH, whoever gets the PID next. What is left is the gap
/// between the scan and `pidfd_open`, and it is closed by the start time: the one
/// `/proc/PID/stat` gives *after* the pidfd is open must be the one the scan read before it
/// listed the process's descriptors. Otherwise the PID changed hands, and the process the
/// plan names has exited.
struct PlannedProcesses {
    /// What became of one planned process.
    enum Handle {
        /// Its pidfd.
        case open(Int32)
        /// It exited (or its PID went to another process) before it could be held.
        case vanished(Vanished)
        /// `pidfd_open` failed otherwise (EMFILE, ...).
        case failed(Errno)
    }

    /// Each planned PID's handle.
    private(set) var handles: [Int32: Handle] = [:]
    private let syscalls: Syscalls

    /// Opens and checks a pidfd for each of `pids`, against the processes the scan saw.
    init(_ pids: some Sequence<Int32>, scanned: [Int32: HolderProcess], procRoot: String, syscalls: Syscalls) {
        self.syscalls = syscalls
        for pid in pids where handles[pid] == nil {
            handles[pid] = Self.open(pid, scanned: scanned[pid]?.startTime, procRoot: procRoot, syscalls: syscalls)
        }
    }

    /// The pidfd of `pid`, if it is still the process the scan saw.
    static func open(_ pid: Int32, scanned: UInt64?, procRoot: String, syscalls: Syscalls) -> Handle {
        let pidfd: Int32
        switch syscalls.openProcess(pid) {
        case .success(let opened): pidfd = opened
        case .failure(let error) where error.code == ESRCH: return .vanished(.exited)
        case .failure(let error): return .failed(error)
        }
        guard let scanned, ProcessTable.startTime("\(procRoot)/\(pid)", syscalls: syscalls) == scanned else {
            syscalls.close(pidfd)
            return .vanished(.exited)   // gone, or its PID is another process's now
        }
        return .open(pidfd)
    }

    /// Closes every pidfd.
    func close() {
        for case .open(let pidfd) in handles.values { syscalls.close(pidfd) }
    }
}

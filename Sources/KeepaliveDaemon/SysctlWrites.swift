#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// Who changed it (issue 28, first part): the loop's part that holds the cgroup_sysctl hook
/// (``SysctlHook``) and reads its ring buffer. Every write to a keepalive key by a process
/// under `[bpf] cgroup`, other than this daemon, is logged with the writer (`sysctl-written`:
/// `WRITER_PID`, `WRITER_COMM`, `WRITER_UID`, `WRITER_CGROUP`, `WRITER_UNIT`), and the
/// enforcer is asked to check at once rather than at its next re-read.
///
/// The hook is loaded only when the config has a `[bpf]` key (and `mode` is not `off`): the built-in default loads no program, so a default install without CAP_BPF
/// says nothing. Writes are seen, never refused (`on-drift = deny` is not built yet).
final class SysctlWrites: LoopPart {
    private let log: EventLog
    private let syscalls: Syscalls
    private let policy: () -> Policy
    private let hint: () -> Void
    private var hook: SysctlHook?
    private var place: BPFPlace?
    private let notices: BPFNotices

    /// A part that reads the policy through `policy` and asks for a check through `hint`.
    init(log: EventLog, syscalls: Syscalls, notices: BPFNotices, policy: @escaping () -> Policy, hint: @escaping () -> Void) {
        self.log = log
        self.notices = notices
        self.syscalls = syscalls
        self.policy = policy
        self.hint = hint
    }

    var wakes: [Wake] { hook.map { [Wake(fd: $0.readable)] } ?? [] }

    /// Attaches as the start policy says; the exit status when `mode = required` and the
    /// hook cannot run.
    func start() -> ExitStatus? {
        guard let reason = configure() else { return nil }
        guard policy().config.hookSettings.mode == .required else { return nil }
        log.record(.startFailed, "[bpf] mode = required, but the sysctl write monitor cannot run: \(reason); keepalived-tune does not start",
                   fields: ["BPF_MISSING": reason.missing])
        return .systemFailure
    }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        var activity: Activity = []
        if turn.contains(.reconfigured) {
            let before = hook?.readable
            _ = configure()
            activity = hook?.readable == before ? .ranCode : [.ranCode, .rewired]
        }
        guard let hook, ready.isReady(hook.readable) else { return activity }
        let writes: [SysctlWrite]
        do throws(BPFError) { writes = try hook.drain() } catch { return activity.union(.ranCode) }
        guard !writes.isEmpty else { return activity.union(.ranCode) }
        let units = CgroupTree.unitsByID(root: WorkloadScan.mount(of: place?.cgroup ?? CgroupTree.root(syscalls: syscalls), syscalls: syscalls),
                                         syscalls: syscalls)
        for write in writes {
            let unit = units[write.cgroup.rawValue]?.description
            log.record(.sysctlWritten, "\(write.key.sysctlName) written \(write.oldValue) → \(write.newValue) by \(write.command)[\(write.pid)] (uid \(write.uid), \(unit ?? "cgroup \(write.cgroup)")); checking it now",
                       fields: ["SYSCTL": write.key.sysctlName, "OLD": write.oldValue, "NEW": write.newValue,
                                "WRITER_PID": String(write.pid), "WRITER_COMM": write.command, "WRITER_UID": String(write.uid),
                                "WRITER_CGROUP": String(write.cgroup.rawValue), "WRITER_UNIT": unit ?? ""])
        }
        hint()
        return activity.union([.ranCode, .changedState])
    }

    /// Detaches the hook (a clean stop), exactly what this daemon attached or adopted.
    func stop() {
        try? hook?.detach()
        hook = nil
        place = nil
    }

    /// Attaches, keeps or detaches as the policy says; the reason when wanted and unavailable.
    private func configure() -> BPFUnavailable? {
        let config = policy().config
        guard config.configuresHooks, config.hookSettings.mode != .off else { stop(); return nil }
        let settings = config.hookSettings
        let wanted = BPFPlace(cgroup: settings.cgroup ?? CgroupTree.root(syscalls: syscalls), pins: PinLayout(directory: settings.pin))
        if hook != nil && place == wanted { return nil }
        stop()
        do throws(BPFError) {
            hook = try SysctlHook.attach(at: wanted, policy: SysctlWritePolicy(), exemptProcesses: [getpid()])
            place = wanted
            return nil
        } catch {
            let reason = error.unavailable
            if settings.mode != .required, notices.first(reason) {
                log.record(.bpfUnavailable, "the sysctl write monitor is off: \(reason); drift is still found by inotify and the periodic re-read, without the writer's name",
                           fields: ["BPF_MISSING": reason.missing])
            }
            return reason
        }
    }
}

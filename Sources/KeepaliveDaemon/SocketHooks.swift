import KeepaliveModel
import KeepaliveOS

/// Keepalive at connection birth (`[sockets]`, `[bpf]`; issue 27): the loop's part that keeps
/// the sock_ops hook (``KeepaliveHook``) attached with the workloads the rules select.
///
/// The kernel does the work and counts it; the daemon is never woken per connection. The
/// part wakes when a reload put a new policy in force, and every `rescan-interval` while
/// the hook is in force, to put cgroups made since (a unit started, a container run) in the
/// map. Without the hooks (``BPFUnavailable``), `mode = auto` says so once per reason and
/// goes on without them; `mode = required` refuses to start (``start(at:)``).
final class SocketHooks: LoopPart {
    private let log: EventLog
    private let syscalls: Syscalls
    private let policy: () -> Policy
    /// The hook in force, where it is attached, and what its map holds.
    private var hook: KeepaliveHook?
    private var place: BPFPlace?
    private var assigned: [SocketRules.Assignment] = []
    private var inForce: [CgroupID: SocketPolicy] = [:]
    /// The reasons already said, shared with the other hook.
    private let notices: BPFNotices
    private var nextScan = Instant.never
    /// The owner of the system's cgroups (tests: their own UID).
    private let systemOwner: UInt32

    /// A part that reads the policy in force through `policy`.
    init(log: EventLog, syscalls: Syscalls, notices: BPFNotices, systemOwner: UInt32 = 0, policy: @escaping () -> Policy) {
        self.log = log
        self.notices = notices
        self.syscalls = syscalls
        self.systemOwner = systemOwner
        self.policy = policy
    }

    /// Puts the start policy in force; the exit status when `mode = required` and the hooks
    /// cannot run.
    func start(at now: Instant) -> ExitStatus? {
        guard let reason = configure(at: now) else { return nil }
        return policy().config.hookSettings.mode == .required ? refuse(reason) : nil
    }

    func deadline(at now: Instant) -> Instant { nextScan }

    /// A new policy, or the rescan that takes in cgroups made since.
    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        guard turn.contains(.reconfigured) || now >= nextScan else { return [] }
        _ = configure(at: now)
        return .ranCode
    }

    /// Takes the hook off (a clean stop): exactly what this daemon attached or adopted.
    func stop() {
        guard let hook else { return }
        do throws(BPFError) {
            try hook.detach()
            log.record(.socketsHooked, "keepalive at connection birth taken off (clean stop): the sock_ops program is detached and its pins removed",
                       fields: ["WORKLOADS": "0", "CGROUP": place?.cgroup ?? "", "PIN": place?.pins.directory ?? ""])
        } catch {
            log.record(.bpfUnavailable, "cannot detach the sock_ops program at stop: \(error); it stays attached through its pin",
                       fields: ["BPF_MISSING": error.unavailable.missing])
        }
        self.hook = nil
        place = nil
        assigned = []
        inForce = [:]
    }

    /// Attaches, updates or detaches the hook as the policy in force says; the reason when
    /// the hook is wanted and cannot run.
    private func configure(at now: Instant) -> BPFUnavailable? {
        let policy = policy()
        let settings = policy.config.hookSettings, rules = policy.config.socketRules
        guard settings.mode != .off, rules.reach != .none else {
            stop()
            nextScan = .never
            return nil
        }
        let cgroup = settings.cgroup ?? CgroupTree.root(syscalls: syscalls)
        let mount = WorkloadScan.mount(of: cgroup, syscalls: syscalls)
        let wanted = BPFPlace(cgroup: cgroup, pins: PinLayout(directory: settings.pin))
        if let place, place != wanted { stop() }
        let scan = WorkloadScan(mount: mount, systemOwner: systemOwner, syscalls: syscalls)
        let readsContainers = rules.rules.contains { $0.selectors.contains { [.podman, .docker, .k8s].contains($0.kind) } }
        let workloads = scan.workloads(under: wanted.cgroup, readContainers: readsContainers)
        guard let root = workloads.first else {
            return unavailable(.noCgroup2(path: wanted.cgroup), rules: policy)
        }
        let assignments = rules.assignments(workloads, root: (root.id, root.path), daemonProfile: policy.profile.name)
        var map: [CgroupID: SocketPolicy] = [:]
        for assignment in assignments {
            if let values = policy.forNamespace(profile: assignment.profile)?.values,
               let socket = SocketPolicy(keepalive: values, userTimeout: .off) {
                map[assignment.id] = socket
            }
        }
        nextScan = now + .seconds(policy.config.rescanIntervalSeconds)
        do throws(BPFError) {
            if let hook {
                guard assignments != assigned || map != inForce else { return nil }
                try hook.setWorkloads(map)
            } else {
                hook = try KeepaliveHook.attach(at: wanted, workloads: map)
                place = wanted
            }
        } catch {
            return unavailable(error.unavailable, rules: policy)
        }
        assigned = assignments
        inForce = map
        let list = assignments.map { "\($0.path) (\($0.profile))" }.joined(separator: ", ")
        log.record(.socketsHooked, "keepalive at connection birth (sock_ops, \(hook?.attachment.description ?? "attached")) for \(assignments.count) workloads under \(wanted.cgroup): \(list.isEmpty ? "none yet" : list)",
                   fields: ["WORKLOADS": String(assignments.count), "CGROUP": wanted.cgroup, "PIN": wanted.pins.directory, "MECHANISM": "sock_ops"])
        return nil
    }

    /// Says once why the hooks cannot run and what takes over; the reason.
    private func unavailable(_ reason: BPFUnavailable, rules policy: Policy) -> BPFUnavailable {
        nextScan = .never
        // `required` at start says it in the refusal instead (``refuse(_:)``).
        guard policy.config.hookSettings.mode != .required || hook != nil, notices.first(reason) else { return reason }
        let sweep = policy.config.keepaliveUnits.isEmpty
            ? "nothing takes over: connections keep what their applications set"
            : "the [connections] enable-keepalive sweep (pidfd_getfd, every audit-interval) takes over"
        log.record(.bpfUnavailable, "keepalive at connection birth is off: \(reason); \(sweep)",
                   fields: ["BPF_MISSING": reason.missing])
        return reason
    }

    /// `mode = required` without the hooks: said, and the start refused.
    private func refuse(_ reason: BPFUnavailable) -> ExitStatus {
        log.record(.startFailed, "[bpf] mode = required, but keepalive at connection birth cannot run: \(reason); keepalived-tune does not start",
                   fields: ["BPF_MISSING": reason.missing])
        return .systemFailure
    }
}

/// The reasons the hooks could not run that were already said: each is said once, whichever
/// hook met it first (`bpf-unavailable`).
final class BPFNotices {
    private var said: Set<BPFUnavailable> = []

    /// Whether `reason` is new (and now counts as said).
    func first(_ reason: BPFUnavailable) -> Bool { said.insert(reason).inserted }
}

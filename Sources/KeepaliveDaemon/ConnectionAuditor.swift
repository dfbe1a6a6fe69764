#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import Synchronization

/// The daemon's connections audit (`[connections]`), on a thread of its own so that the
/// drift-check loop never waits for it: every `audit-interval` it reads the socket table
/// and `/proc` (``ConnectionScanner``), warns once per unit that holds more never-reaped
/// connections than `alert-never-reaped` (``UnreapedAlerts``), and gives the sockets of the
/// `enable-keepalive` units keepalive (``RetrofitPlan``, ``KeepaliveRetrofit``).
///
/// The loop hands it each policy it puts in force (``configure(_:)``); a changed setting
/// wakes it for an audit at once. With `audit-interval = 0` (the default) no thread exists.
final class ConnectionAuditor: Sendable {
    /// What the audit does, from the config.
    struct Settings: Equatable, Sendable {
        var interval: Int
        var threshold: Int
        var units: [UnitSelector]

        init(_ config: DaemonConfig) {
            interval = config.auditIntervalSeconds
            threshold = config.alertNeverReapedCount
            units = config.keepaliveUnits
        }
    }

    private struct Shared {
        var settings: Settings?
        var stopping = false
        var thread: OwnThread?
    }

    private let shared = Mutex(Shared())
    /// A pipe whose write end wakes the thread (a setting changed, or stop); made with the
    /// thread, so that a daemon that never audits holds no more descriptors than before.
    private let wakePipe = Mutex<(read: Int32, write: Int32)>((-1, -1))
    private let log: EventLog
    private let scanner: ConnectionScanner
    private let syscalls: Syscalls
    /// Takes each audit's counts for the metrics textfile.
    private let metrics: MetricsPublisher?
    /// Runs between a sweep's plan and its first change: a test's pause point.
    private let beforeRetrofit: @Sendable () -> Void

    /// An auditor logging to `log`; `beforeRetrofit` is for tests that change the world
    /// between a plan and its act.
    init(log: EventLog, setup: Setup, metrics: MetricsPublisher? = nil, beforeRetrofit: @escaping @Sendable () -> Void = {}) {
        self.log = log
        self.metrics = metrics
        self.beforeRetrofit = beforeRetrofit
        syscalls = setup.syscalls
        scanner = ConnectionScanner(syscalls: setup.syscalls, sysctlRoot: setup.sysctlRoot)
    }

    deinit {
        let ends = wakePipe.withLock { $0 }
        if ends.read >= 0 {
            syscalls.close(ends.read)
            syscalls.close(ends.write)
        }
    }

    /// Takes the settings of a policy just put in force: starts the thread the first time an
    /// interval is set, wakes it when a setting changed.
    func configure(_ config: DaemonConfig) {
        let settings = Settings(config)
        let start = shared.withLock { shared -> Bool in
            guard shared.settings != settings else { return false }
            shared.settings = settings
            return shared.thread == nil && settings.interval > 0
        }
        if start {
            switch syscalls.pipe() {
            case .success(let ends): wakePipe.withLock { $0 = ends }
            case .failure(let error):
                log.record(.auditFailed, "cannot make the connections audit's wake-up pipe: \(error); connections are not audited")
                return
            }
            switch OwnThread.start({ [self] in loop() }) {
            case .success(let thread): shared.withLock { $0.thread = thread }
            case .failure(let error):
                log.record(.auditFailed, "cannot start the connections audit thread: \(error); connections are not audited")
            }
        } else {
            wake()
        }
    }

    /// Ends the thread (an audit under way finishes first).
    func stop() {
        let thread = shared.withLock { shared -> OwnThread? in
            shared.stopping = true
            return shared.thread
        }
        wake()
        thread?.join()
    }

    /// Writes a byte into the wake pipe: the thread's poll returns.
    private func wake() {
        let end = wakePipe.withLock { $0.write }
        guard end >= 0 else { return }
        let byte: UInt8 = 1
        _ = withUnsafeBytes(of: byte) { syscalls.write(end, $0) }
    }

    /// Audits, then sleeps for the interval or until woken; forever, until stopped.
    private func loop() {
        var alerts = UnreapedAlerts()
        let wakeRead = wakePipe.withLock { $0.read }
        while true {
            let (settings, stopping) = shared.withLock { ($0.settings, $0.stopping) }
            guard !stopping, let settings else { return }
            if settings.interval > 0 {
                audit(settings, alerts: &alerts)
                // What the audit allocated is free now: give it back before sleeping.
                syscalls.trimHeap()
            }
            var entry = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
            let timeout = settings.interval > 0 ? Int32(min(settings.interval, Int(Int32.max / 1000)) * 1000) : -1
            _ = withUnsafeMutablePointer(to: &entry) { syscalls.poll($0, 1, timeout) }
            var drained = [UInt8](repeating: 0, count: 64)
            while case .success(let count) = drained.withUnsafeMutableBytes({ syscalls.read(wakeRead, $0) }), count > 0 {}
        }
    }

    /// One audit: the alerts, then keepalive for the named units.
    func audit(_ settings: Settings, alerts: inout UnreapedAlerts) {
        let input: AuditInput
        switch scanner.gather(depth: .inferred) {
        case .success(let gathered): input = gathered
        case .failure(let failure):
            log.record(.auditFailed, "cannot read the kernel's TCP socket table: \(failure); the next audit tries again")
            return
        }
        let audit = ConnectionAudit(input)
        // Once the audit is done, keepalive given included.
        defer { if let metrics, metrics.isActive { metrics.audited(ConnectionMetrics(audit.connections)) } }
        for alert in alerts.audit(audit.connections, threshold: settings.threshold) {
            let states = alert.states.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.name)" }.joined(separator: ", ")
            log.record(.connectionsUnreaped,
                       "\(alert.unit) holds \(alert.count) TCP connections that will never be reaped (\(states)); alert-never-reaped is \(settings.threshold)",
                       fields: ["UNIT": alert.unit, "PID": alert.pid.map(String.init) ?? "", "COUNT": String(alert.count), "STATES": states])
        }
        guard !settings.units.isEmpty else { return }
        var filter = ConnectionFilter()
        filter.units = settings.units
        let plan = RetrofitPlan(audit: audit, listeners: input.sockets.filter { $0.record.state == .listen },
                                holders: input.holders, filter: filter)
        guard !plan.targets.isEmpty else { return }
        struct Owner: Hashable { let unit: String; let pid: Int32 }
        var enabled: [Owner: Int] = [:], gone: [Owner: Int] = [:], failed: [Owner: (count: Int, error: Errno)] = [:]
        for result in KeepaliveRetrofit(syscalls: syscalls).apply(plan, processes: input.processes, beforeAction: beforeRetrofit) {
            let owner = Owner(unit: result.target.unit ?? "-", pid: result.holder.pid)
            switch result.outcome {
            case .enabled: enabled[owner, default: 0] += 1
            case .alreadyOn: break
            case .gone: gone[owner, default: 0] += 1   // closed or exited meanwhile: nothing failed
            case .failed(let error): failed[owner] = ((failed[owner]?.count ?? 0) + 1, error)
            }
        }
        for (owner, count) in enabled.sorted(by: { ($0.key.unit, $0.key.pid) < ($1.key.unit, $1.key.pid) }) {
            log.keepaliveGiven(unit: owner.unit, pid: owner.pid, count: count, gone: gone[owner] ?? 0)
        }
        for (owner, failure) in failed.sorted(by: { ($0.key.unit, $0.key.pid) < ($1.key.unit, $1.key.pid) }) {
            let hint = failure.error.code == EPERM ? " (pidfd_getfd needs CAP_SYS_PTRACE: enable the connections drop-in)" : ""
            log.record(.auditFailed, "could not give keepalive to \(failure.count) sockets of \(owner.unit) (PID \(owner.pid)): \(failure.error)\(hint); the next audit tries again",
                       fields: ["UNIT": owner.unit, "PID": String(owner.pid), "COUNT": String(failure.count), "ERRNO": String(failure.error.code)])
        }
    }
}

import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import Logging
import SystemdKit
#if canImport(Glibc)
import Glibc
#endif

/// `keepalived-tune run`: the daemon.
struct RunCommand: Command {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Run the daemon: apply the profile, keep it in force, report to systemd.",
        discussion: """
        Applies the configured profile all or nothing, then sends READY=1. SIGHUP (systemctl \
        reload) or a saved edit of the config or a profile reloads; an invalid reload keeps \
        the last good profile in force. Drift is detected through inotify and a re-read every \
        check-interval, then corrected (on-drift = enforce) or reported (on-drift = warn). \
        SIGTERM stops, restoring the values found at start if restore-on-stop = yes.

        Exit status: 0 after SIGTERM/SIGINT, 2 if the config is invalid at start, 3 if the \
        values cannot be applied.
        """,
        options: GlobalOptions.specs + [logTargetOption])

    static let logTargetOption = OptionSpec(
        name: "log-target", valueName: "log-target",
        help: "journal, console (stderr) or auto: the journal under systemd (JOURNAL_STREAM set or the journal socket present), else console.",
        defaultValue: LogTarget.auto.rawValue, choices: LogTarget.allCases.map(\.rawValue))

    /// Where log entries go.
    enum LogTarget: String, CaseIterable {
        case auto, journal, console
    }

    let options: GlobalOptions
    let logTarget: LogTarget

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        logTarget = arguments.value(RunCommand.logTargetOption).flatMap(LogTarget.init(rawValue:)) ?? .auto
    }

    func run() throws {
        // --sysctl-root points root's writes at files under another directory. It is for
        // tests and containers; a root service under systemd (INVOCATION_ID is set for every
        // unit) has no use for it, so it is refused there rather than trusted.
        if options.sysctlRoot != SysctlTree.defaultRoot && geteuid() == 0 && getenv("INVOCATION_ID") != nil {
            Output.error("keepalived-tune: --sysctl-root \(options.sysctlRoot) is refused in a root service under systemd: it is for tests and containers. Remove it from the unit's ExecStart=")
            throw ExitStatus.invalid
        }
        let useJournal = switch logTarget {
        case .journal: true
        case .console: false
        case .auto: getenv("JOURNAL_STREAM") != nil || Journal.socketExists
        }
        let logger = Logger(label: "keepalived-tune") { _ -> any LogHandler in
            useJournal ? JournalLogHandler(identifier: "keepalived-tune")
                       : ConsoleLogHandler { Output.error($0) }
        }
        // Each managed namespace holds three descriptors: the soft limit goes up to the
        // hard one (the fleet's cap, FleetCapacity, is computed from it).
        DescriptorLimit.raiseSoftToHard(syscalls: options.setup.syscalls)
        // What a connections audit allocates goes back to the kernel after it (with the
        // audit's malloc_trim), instead of staying in the heap for good.
        options.setup.syscalls.fixHeapThresholds()
        let code = Daemon(setup: options.setup, logger: logger).run()
        if code != 0 { throw ExitStatus(rawValue: code) ?? .systemFailure }
    }
}

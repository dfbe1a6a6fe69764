import KeepaliveModel
import KeepaliveOS
#if canImport(Glibc)
import Glibc
#endif

/// `keepalived-tune connections`: which TCP connections will never be reaped, who holds
/// them, and (with `--enable-keepalive`) keepalive for the sockets that lack it.
struct ConnectionsCommand: Command {
    static let all = OptionSpec.flag("all", help: "List every connection, not the summary by process.")
    static let pid = OptionSpec(name: "pid", valueName: "pid", help: "Only connections held by this process (repeatable).", repeatable: true)
    static let unit = OptionSpec(name: "unit", valueName: "glob",
        help: "Only connections of system units matching this glob, or of a user's units with user-unit:UID/GLOB (repeatable).",
        repeatable: true)
    static let port = OptionSpec(name: "port", valueName: "port", help: "Only connections with this local or remote port (repeatable).", repeatable: true)
    static let state = OptionSpec(name: "state", valueName: "state",
                                  help: "Only connections in this state: established, close-wait, time-wait, fin-wait-2... (repeatable).",
                                  repeatable: true)
    static let idleOver = OptionSpec(name: "idle-over", valueName: "span", help: "Only connections idle longer than SPAN (e.g. 10min).")
    static let neverReaped = OptionSpec.flag("never-reaped", help: "Only connections nothing will ever reap.")
    static let check = OptionSpec.flag("check", help: "Exit 1 when a selected connection will never be reaped.")
    static let exact = OptionSpec.flag("exact",
        help: "Read keepalive from every socket itself (pidfd_getfd; root) instead of inferring it from the kernel's timers.")
    static let netns = OptionSpec(name: "netns", valueName: "name|path|pid",
                                  help: "Audit another network namespace: a name under /run/netns, a path, or a PID.")
    static let allNamespaces = OptionSpec.flag("all-namespaces",
        help: "Audit every network namespace found (as `keepalived-tune namespaces` lists them), one after another.")
    static let enable = OptionSpec.flag("enable-keepalive",
        help: "Turn SO_KEEPALIVE on for the selected connections and listening sockets that lack it (needs --pid, --unit or --port).")
    static let dryRun = OptionSpec.flag("dry-run", help: "With --enable-keepalive: show what would change, change nothing.")

    static let spec = CommandSpec(
        name: "connections",
        abstract: "Show which TCP connections will never be reaped, who holds them, and give them keepalive.",
        discussion: """
        Reads the kernel's socket table (sock_diag) and /proc, and judges every TCP \
        connection of the network namespace: what reaps it if its peer vanishes, and within \
        how long. By default keepalive is inferred from the kernel's timers (fast); --exact \
        reads it from each socket. Without root, what cannot be seen is said plainly.

        --enable-keepalive turns SO_KEEPALIVE on through a pidfd_getfd duplicate; the \
        namespace's keepalive sysctls then govern those sockets. It never closes a \
        connection and never changes a socket that has keepalive already.

        Exit status: 0 success, 1 a selected connection will never be reaped (--check), \
        3 system failure, 64 bad command line.
        """,
        options: [all, pid, unit, port, state, idleOver, neverReaped, check, exact, netns, allNamespaces, enable, dryRun, GlobalOptions.json])

    let arguments: ParsedArguments
    /// The seam every call of the command goes through (the command takes no --sysctl-root,
    /// so it builds its own instead of a Setup's).
    let syscalls = Syscalls.live

    init(_ arguments: ParsedArguments) { self.arguments = arguments }

    func run() throws {
        let filter = try Self.filter(arguments)
        let enabling = arguments.flag(Self.enable)
        if enabling && !filter.namesProcesses {
            throw UsageError(message: "--enable-keepalive changes other processes' sockets, so it needs --pid, --unit or --port to say whose")
        }
        if arguments.flag(Self.dryRun) && !enabling { throw UsageError(message: "--dry-run goes with --enable-keepalive") }
        let depth: ConnectionScanner.Depth = enabling || arguments.flag(Self.exact) ? .exact : .inferred
        if arguments.flag(Self.allNamespaces) {
            if arguments.value(Self.netns) != nil { throw UsageError(message: "--all-namespaces and --netns exclude each other") }
            return try runInEveryNamespace(filter: filter, depth: depth, enabling: enabling)
        }
        let input = try gather(depth: depth, in: arguments.value(Self.netns))
        let audit = ConnectionAudit(input)
        if enabling {
            try ConnectionsRetrofit(audit: audit, input: input, filter: filter, syscalls: syscalls, dryRun: arguments.flag(Self.dryRun),
                                    json: arguments.flag(GlobalOptions.json)).run()
            return
        }
        let selected = audit.connections.filter(filter.matches)
        let report = ConnectionsReport(audit: audit, selected: selected, filter: filter)
        if arguments.flag(GlobalOptions.json) {
            Output.json(report.json)
        } else {
            report.print(all: arguments.flag(Self.all))
        }
        if arguments.flag(Self.check) && selected.contains(where: \.neverReaped) { throw ExitStatus.drift }
    }

    /// The audit's input, gathered here or in the namespace `target` names.
    func gather(depth: ConnectionScanner.Depth, in target: String?) throws -> AuditInput {
        let scan = { ConnectionScanner(syscalls: syscalls).gather(depth: depth) }
        guard let target else { return try Self.input(scan()) }
        switch NetworkNamespace.run(in: target, syscalls: syscalls, scan) {
        case .success(let result): return try Self.input(result)
        case .failure(let failure):
            Output.error("keepalived-tune: \(failure)")
            throw ExitStatus.systemFailure
        }
    }

    /// The input a scan gathered; exit 3, said, when the socket table could not be read.
    static func input(_ outcome: Result<AuditInput, SockDiag.Failure>) throws -> AuditInput {
        switch outcome {
        case .success(let input): return input
        case .failure(let failure):
            Output.error("keepalived-tune: cannot read the kernel's TCP socket table: \(failure)")
            throw ExitStatus.systemFailure
        }
    }

    /// The filter the options describe; a malformed value is a usage error.
    static func filter(_ arguments: ParsedArguments) throws -> ConnectionFilter {
        var filter = ConnectionFilter()
        for text in arguments.all(pid) {
            guard let value = Int32(text), value > 0 else { throw UsageError(message: "--pid \(text): not a process ID") }
            filter.pids.append(value)
        }
        for text in arguments.all(unit) {
            switch UnitSelector.parse(text) {
            case .success(let selector): filter.units.append(selector)
            case .failure(let problem): throw UsageError(message: "--unit \(problem)")
            }
        }
        for text in arguments.all(port) {
            guard let value = Int(text), (1...65535).contains(value) else { throw UsageError(message: "--port \(text): not a port (1-65535)") }
            filter.ports.append(value)
        }
        for text in arguments.all(state) {
            guard let value = ConnectionFilter.state(named: text) else {
                let names = SocketRecord.State.allCases.filter { $0 != .listen }.map { $0.name.asciiLowercased }.joined(separator: ", ")
                throw UsageError(message: "--state \(text): not a TCP state; use one of \(names)")
            }
            filter.states.append(value)
        }
        if let text = arguments.value(idleOver) {
            switch TimeSpan.parseSeconds(text) {
            case .success(let seconds): filter.idleOverSeconds = seconds
            case .failure(let error): throw UsageError(message: "--idle-over \(text): \(error.explanation)")
            }
        }
        filter.neverReaped = arguments.flag(neverReaped)
        return filter
    }
}

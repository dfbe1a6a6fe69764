import KeepaliveModel
import KeepaliveOS
#if canImport(Glibc)
import Glibc
#endif

/// The `keepalived-tune` command: the daemon and the one-shot tools around it.
@main
enum KeepalivedTune {
    static let version = ProductVersion.current

    static let spec = CommandSpec(
        name: "keepalived-tune",
        abstract: "Keep a host's TCP keepalive tuning in force.",
        discussion: """
        keepalived-tune manages net.ipv4.tcp_keepalive_time, tcp_keepalive_intvl and \
        tcp_keepalive_probes as policy: it applies a profile, watches the kernel for drift \
        and restores it. Profiles are searched in /etc/keepalived-tune/profiles, \
        /usr/local/lib/keepalived-tune/profiles, /usr/lib/keepalived-tune/profiles and \
        then the built-ins; the config is /etc/keepalived-tune/keepalived-tune.conf plus \
        keepalived-tune.conf.d/*.conf.

        Exit status: 0 success, 1 drift (verify), 2 invalid config or profile, \
        3 system failure, 64 bad command line.
        """,
        options: [.flag("version", help: "Show the version.")])

    /// Every command, in the order help lists them.
    static let commands: [any Command.Type] = [RunCommand.self, ListCommand.self, ShowCommand.self, CheckCommand.self,
                                               ApplyCommand.self, VerifyCommand.self, StatusCommand.self,
                                               ConnectionsCommand.self, NamespacesCommand.self]

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Block the daemon's signals before anything else: a SIGHUP that arrived before the
        // daemon listens would otherwise kill it.
        if arguments.first == "run" {
            SignalSource.blockEarly()
            // A reader of stderr that goes away must not kill the daemon: writes then fail
            // with EPIPE, and the console log stops writing.
            signal(SIGPIPE, SIG_IGN)
        }
        exit(execute(arguments))
    }

    /// Runs the command line; returns the exit status.
    static func execute(_ arguments: [String]) -> Int32 {
        let invocation: Invocation
        do {
            invocation = try Invocation.parse(arguments, commands: commands.map { $0.spec })
        } catch {
            Output.error(HelpText.error(error))
            return ExitStatus.usage.rawValue
        }
        switch invocation {
        case .help(let spec):
            print(spec.map(HelpText.command) ?? HelpText.top(self.spec, commands: commands.map { $0.spec }))
            return 0
        case .version:
            print(version)
            return 0
        case .command(let spec, let parsed):
            guard let command = commands.first(where: { $0.spec.name == spec.name }) else { return ExitStatus.usage.rawValue }
            do {
                try command.init(parsed).run()
                return 0
            } catch let exit as ExitStatus {
                return exit.rawValue
            } catch let usage as UsageError {
                Output.error(HelpText.error(Invocation.Failure(error: usage, command: spec)))
                return ExitStatus.usage.rawValue
            } catch {
                Output.error("keepalived-tune: \(error)")
                return ExitStatus.systemFailure.rawValue
            }
        }
    }
}

/// A subcommand: its spec, built from the parsed command line, run once.
protocol Command: Sendable {
    static var spec: CommandSpec { get }
    init(_ arguments: ParsedArguments)
    /// Does the work; throws an ``ExitStatus`` (after printing why) to end with another status.
    func run() throws
}

import ArgumentParser
import KeepaliveOS

/// The `keepalived-tune` command: the daemon and the one-shot tools around it.
@main
struct KeepalivedTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keepalived-tune",
        abstract: "Keep a host's TCP keepalive tuning in force.",
        discussion: """
        keepalived-tune manages net.ipv4.tcp_keepalive_time, tcp_keepalive_intvl and \
        tcp_keepalive_probes as policy: it applies a profile, watches the kernel for drift \
        and restores it. Profiles are searched in /etc/keepalived-tune/profiles, \
        /usr/local/lib/keepalived-tune/profiles, /usr/lib/keepalived-tune/profiles and \
        then the built-ins; the config is /etc/keepalived-tune/keepalived-tune.conf plus \
        keepalived-tune.conf.d/*.conf.

        Exit status: 0 success, 1 drift (verify), 2 invalid config or profile, \
        3 system failure.
        """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ListCommand.self, ShowCommand.self, CheckCommand.self,
                      ApplyCommand.self, VerifyCommand.self, StatusCommand.self])

    /// Blocks the daemon's signals before anything else when the command is `run`: a
    /// SIGHUP that arrived before the daemon listens would otherwise kill it.
    static func main() {
        if CommandLine.arguments.dropFirst().first == "run" { SignalSource.blockEarly() }
        main(nil)
    }
}

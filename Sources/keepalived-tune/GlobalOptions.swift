import ArgumentParser
import KeepaliveOS

/// The options every subcommand takes: where the config, profiles and sysctls are.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config file; its drop-ins are read from PATH.d/*.conf.",
                                            valueName: "path"))
    var config: String = Setup.defaultConfigPath

    @Option(name: .customLong("profile-dir"),
            help: ArgumentHelp("A profile directory (repeatable). Replaces the on-disk search path; the built-in profiles always stay last.",
                               valueName: "dir"))
    var profileDirectories: [String] = []

    @Option(name: .customLong("sysctl-root"),
            help: ArgumentHelp("Read and write the sysctls under DIR instead of /proc/sys (for tests and containers).",
                               valueName: "dir"))
    var sysctlRoot: String = "/proc/sys"

    @Option(name: .customLong("sysctl-conf-root"),
            help: ArgumentHelp("Scan DIR/etc/sysctl.conf and DIR/{etc,run,usr/local/lib,usr/lib}/sysctl.d for conflicts (for tests).",
                               valueName: "dir", visibility: .hidden))
    var sysctlConfRoot: String = "/"

    /// The setup these options describe.
    var setup: Setup {
        Setup(configPath: config,
              profileDirectories: profileDirectories.isEmpty ? nil : profileDirectories,
              sysctlRoot: sysctlRoot, sysctlConfRoot: sysctlConfRoot)
    }
}

/// The exit codes shared by every command.
enum Exit {
    static let drift = ExitCode(1)
    static let invalid = ExitCode(2)
    static let systemFailure = ExitCode(3)
}

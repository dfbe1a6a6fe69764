import KeepaliveOS

/// The options every subcommand takes: where the config, profiles and sysctls are.
struct GlobalOptions {
    static let config = OptionSpec(name: "config", valueName: "path",
                                   help: "The config file; its drop-ins are read from PATH.d/*.conf.",
                                   defaultValue: Setup.defaultConfigPath)
    static let profileDirectories = OptionSpec(name: "profile-dir", valueName: "dir",
        help: "A profile directory (repeatable). Replaces the on-disk search path; the built-in profiles always stay last.",
        repeatable: true)
    static let sysctlRoot = OptionSpec(name: "sysctl-root", valueName: "dir",
        help: "Read and write the sysctls under DIR instead of /proc/sys (for tests and containers).",
        defaultValue: SysctlTree.defaultRoot)
    static let sysctlConfRoot = OptionSpec(name: "sysctl-conf-root", valueName: "dir",
        help: "Scan DIR/etc/sysctl.conf and DIR/{etc,run,usr/local/lib,usr/lib}/sysctl.d for conflicts (for tests).",
        defaultValue: "/", hidden: true)
    static let runtimeDirectory = OptionSpec(name: "runtime-dir", valueName: "dir",
        help: "Keep the apply lock and the daemon's state in DIR instead of the default (for tests).",
        hidden: true)
    /// `--json`, for the commands that can print JSON instead of text (list, show, status).
    static let json = OptionSpec.flag("json", help: "Print JSON instead of text.")
    /// The specs, for a command's option list.
    static let specs = [config, profileDirectories, sysctlRoot, sysctlConfRoot, runtimeDirectory]

    let config: String
    let profileDirectories: [String]
    let sysctlRoot: String
    let sysctlConfRoot: String
    let runtimeDirectory: String?
    /// `--json` was given; always false for the commands that do not declare it.
    let json: Bool

    init(_ arguments: ParsedArguments) {
        config = arguments.value(GlobalOptions.config) ?? Setup.defaultConfigPath
        profileDirectories = arguments.all(GlobalOptions.profileDirectories)
        sysctlRoot = arguments.value(GlobalOptions.sysctlRoot) ?? SysctlTree.defaultRoot
        sysctlConfRoot = arguments.value(GlobalOptions.sysctlConfRoot) ?? "/"
        runtimeDirectory = arguments.value(GlobalOptions.runtimeDirectory)
        json = arguments.flag(GlobalOptions.json)
    }

    /// The setup these options describe, on the live seam: the one every command that
    /// takes these options makes its calls through.
    var setup: Setup {
        Setup(configPath: config,
              profileDirectories: profileDirectories.isEmpty ? nil : profileDirectories,
              sysctlRoot: sysctlRoot, sysctlConfRoot: sysctlConfRoot, runtimeDirectory: runtimeDirectory,
              reader: FileReader(syscalls: .live))
    }
}

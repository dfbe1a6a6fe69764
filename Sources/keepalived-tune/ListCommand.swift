import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune list`: every profile on the search path.
struct ListCommand: Command {
    static let spec = CommandSpec(
        name: "list",
        abstract: "List every profile on the search path.",
        discussion: """
        Shows each profile's name, values, dead-peer detection time (time + intvl × probes) \
        and the file it comes from. A profile in an earlier directory hides one of the same \
        name further down the path. Invalid profiles are reported on stderr and left out. \
        --names prints only the names, one a line, and nothing on stderr: for shell completion.
        """,
        options: GlobalOptions.specs + [GlobalOptions.json, names])

    static let names = OptionSpec.flag("names", help: "Print only the profiles' names, one a line, quietly (for completion).")

    let options: GlobalOptions
    let namesOnly: Bool

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        namesOnly = arguments.flag(ListCommand.names)
    }

    func run() throws {
        let searchPath = options.setup.searchPath
        let (entries, found) = searchPath.inventory()
        var diagnostics = found
        var profiles: [ResolvedProfile] = []
        for entry in entries where !entry.shadowed {
            let (profile, problems) = searchPath.resolve(entry)
            diagnostics += problems
            if let profile { profiles.append(profile) }
        }
        profiles.sort { $0.name < $1.name }
        if namesOnly {
            profiles.forEach { print($0.name.rawValue) }
            return
        }
        Output.diagnostics(diagnostics)
        if options.json {
            Output.json(.array(profiles.map { .object(ProfileJSON.profile($0)) }))
            return
        }
        let header = ["NAME", "TIME", "INTVL", "PROBES", "DEAD PEER FOUND AFTER", "SOURCE"]
        let rows = profiles.map { profile in
            [profile.name.rawValue,
             Output.value(profile.values.time, of: .time),
             Output.value(profile.values.intvl, of: .intvl),
             Output.value(profile.values.probes, of: .probes),
             TimeSpan.format(seconds: profile.values.detectionSeconds),
             profile.source]
        }
        Output.table([header] + rows).forEach { print($0) }
        print("")
        for profile in profiles {
            print("\(profile.name.rawValue.padding(to: profiles.map(\.name.rawValue.count).max() ?? 0))  \(profile.description)")
        }
    }
}

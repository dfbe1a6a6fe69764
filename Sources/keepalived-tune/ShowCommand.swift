import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune show NAME`: one resolved profile and where each value comes from.
struct ShowCommand: Command {
    static let spec = CommandSpec(
        name: "show",
        abstract: "Show a resolved profile, with the file:line that set each value.",
        discussion: "Exits 2 if the profile is unknown or invalid.",
        options: GlobalOptions.specs + [GlobalOptions.json],
        arguments: [ArgumentSpec(name: "name", help: "The profile's name.")])

    let options: GlobalOptions
    let name: String

    init(_ arguments: ParsedArguments) {
        options = GlobalOptions(arguments)
        name = arguments.argument(0) ?? ""   // required: parsing has checked it is there
    }

    func run() throws {
        let profile = try options.setup.profileOrExit(named: name, consequence: "nothing to show")
        if options.json {
            Output.json(.object(ProfileJSON.profile(profile, detailed: true)))
            return
        }
        print("profile \(profile.name): \(profile.description)")
        print("source:  \(profile.source)")
        if profile.chain.count > 1 {
            print("include: \(profile.chain.dropFirst().joined(separator: " -> "))")
        }
        print("")
        let rows = Tunable.allCases.map { key in
            [key.sysctlName, Output.value(profile.values[key], of: key),
             profile.provenance[key]?.description ?? "?"]
        }
        Output.table(rows).forEach { print("  " + $0) }
        print("")
        print("dead peers found after \(Output.detection(profile.values.detectionSeconds))")
    }
}

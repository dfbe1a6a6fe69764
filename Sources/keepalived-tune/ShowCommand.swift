import ArgumentParser
import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune show NAME`: one resolved profile and where each value comes from.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a resolved profile, with the file:line that set each value.",
        discussion: "Exits 2 if the profile is unknown or invalid.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The profile's name.")
    var name: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let profile = try options.setup.profileOrExit(named: name, consequence: "nothing to show")
        if json {
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

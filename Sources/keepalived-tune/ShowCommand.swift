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
        guard let profileName = ProfileName(name) else {
            Output.error("keepalived-tune: \(ProfileName.problem(with: name) ?? "invalid profile name"); nothing was opened")
            throw Exit.invalid
        }
        let searchPath = options.setup.searchPath
        let (resolved, diagnostics) = searchPath.resolve(profileName)
        guard let profile = resolved else {
            if diagnostics.hasErrors {
                Output.rejected(diagnostics, consequence: "profile '\(profileName)' cannot be used")
            } else {
                let known = searchPath.names().map(\.rawValue)
                Output.error("keepalived-tune: no profile named '\(profileName)'\(Suggestion.phrase(for: name, among: known)) (known: \(known.joined(separator: ", ")))")
            }
            throw Exit.invalid
        }
        Output.diagnostics(diagnostics)
        if json {
            try Output.json(ProfileJSON(profile, detailed: true))
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

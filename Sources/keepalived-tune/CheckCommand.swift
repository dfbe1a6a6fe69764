import KeepaliveModel
import KeepaliveOS

/// `keepalived-tune check`: validates the config, its drop-ins and every profile.
struct CheckCommand: Command {
    static let spec = CommandSpec(
        name: "check",
        abstract: "Validate the config, its drop-ins and every profile on the search path.",
        discussion: """
        Prints FILE:LINE: diagnostics on stderr. Exits 0 if everything is valid (warnings \
        allowed), 2 otherwise. Nothing is applied.
        """,
        options: GlobalOptions.specs)

    let options: GlobalOptions

    init(_ arguments: ParsedArguments) { options = GlobalOptions(arguments) }

    func run() throws {
        let setup = options.setup
        let (entries, inventoryDiagnostics) = setup.searchPath.inventory()
        var diagnostics = inventoryDiagnostics
        for entry in entries {
            diagnostics += setup.searchPath.resolve(entry).1
        }
        let load = setup.loadPolicy()
        diagnostics += load.diagnostics
        if let policy = load.policy {
            diagnostics += setup.sysctlConfScanner().conflicts(with: policy.values).map(\.diagnostic)
        }
        diagnostics = diagnostics.uniqued()
        guard let policy = load.policy, !diagnostics.hasErrors else {
            Output.rejected(diagnostics, consequence: "fix them before starting or reloading keepalived-tune")
            throw ExitStatus.invalid
        }
        Output.diagnostics(diagnostics)
        print("config:   \(Output.configFiles(load.configFiles, main: setup.configPath))")
        print("profile:  \(policy.profile.name) (\(policy.values.compact)) from \(policy.profile.source)")
        print("profiles: \(entries.count) file\(entries.count == 1 ? "" : "s") checked, all valid")
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each kept once.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}

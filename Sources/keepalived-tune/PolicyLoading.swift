import KeepaliveModel
import KeepaliveOS

extension Setup {
    /// Loads the configured policy, or prints why not and exits 2.
    ///
    /// - Parameter consequence: what the refusal means for this command, e.g.
    ///   "nothing was applied".
    func policyOrExit(consequence: String) throws -> Policy {
        let load = loadPolicy()
        guard let policy = load.policy else {
            Output.rejected(load.diagnostics, consequence: consequence)
            throw ExitStatus.invalid
        }
        Output.diagnostics(load.diagnostics)
        return policy
    }

    /// Validates `name` and resolves that profile, or prints why not and exits 2.
    ///
    /// - Parameter consequence: what the refusal means, e.g. "nothing was applied".
    func profileOrExit(named name: String, consequence: String) throws -> ResolvedProfile {
        guard let profileName = ProfileName(name) else {
            Output.error("keepalived-tune: \(ProfileName.problem(with: name) ?? "invalid profile name"); \(consequence)")
            throw ExitStatus.invalid
        }
        let (resolved, diagnostics) = searchPath.resolve(profileName)
        guard let profile = resolved else {
            if diagnostics.hasErrors {
                Output.rejected(diagnostics, consequence: consequence)
            } else {
                let known = searchPath.names().map(\.rawValue)
                Output.error("keepalived-tune: no profile named '\(profileName)'\(Suggestion.phrase(for: name, among: known)) (known: \(known.joined(separator: ", "))); \(consequence)")
            }
            throw ExitStatus.invalid
        }
        Output.diagnostics(diagnostics)
        return profile
    }

    /// Reads the kernel's three values, or prints why not and exits 3.
    func kernelValuesOrExit(_ tree: SysctlTree) throws -> KeepaliveValues {
        do {
            return try tree.readAll()
        } catch {
            Output.error("keepalived-tune: \(error)")
            throw ExitStatus.systemFailure
        }
    }
}

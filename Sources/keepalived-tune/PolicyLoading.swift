import ArgumentParser
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
            throw Exit.invalid
        }
        Output.diagnostics(load.diagnostics)
        return policy
    }

    /// Reads the kernel's three values, or prints why not and exits 3.
    func kernelValuesOrExit(_ tree: SysctlTree) throws -> KeepaliveValues {
        do {
            return try tree.readAll()
        } catch {
            Output.error("keepalived-tune: \(error)")
            throw Exit.systemFailure
        }
    }
}

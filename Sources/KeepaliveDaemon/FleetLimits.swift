import KeepaliveModel
import KeepaliveOS

/// What keeps the fleet from knowing or managing every namespace, said once each: a state
/// file refused (``StateFile/Problem``).
extension Fleet {
    /// Reports each problem a scan met that the scan before did not (`namespaces-limited`,
    /// field `FILE`); one that goes away is forgotten, to be reported again if it comes back.
    func report(_ problems: [StateFile.Problem]) {
        var said = fileProblems
        for problem in problems where said.insert(problem).inserted {
            let consequence = problem.path == discovery.roots.mountinfo
                ? "namespaces pinned by a bind mount are found through their processes alone until it can be read"
                : "the containers it describes are not named, so podman:, docker: and k8s: rules cannot match them, until it is a plain file again"
            log.record(.namespacesLimited, "\(problem); \(consequence)", fields: ["FILE": problem.path])
        }
        fileProblems = Set(problems)
    }
}

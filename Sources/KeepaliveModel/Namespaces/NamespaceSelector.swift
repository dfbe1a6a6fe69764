/// One selector of `[namespaces]` rules and `exclude =`: a kind of name and a glob over it,
/// such as `podman:frontend-*` or `k8s:shop/*`.
public struct NamespaceSelector: Sendable, Hashable, CustomStringConvertible {
    /// What the glob is matched against.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A name under `/run/netns` (`ip netns add`, podman's `netns-<uuid>`, CNI's `cni-…`).
        case netns
        /// A podman container's name.
        case podman
        /// A docker container's name (without docker's leading `/`).
        case docker
        /// A systemd-nspawn machine's name.
        case nspawn
        /// A Kubernetes pod as `NAMESPACE/POD`.
        case k8s
        /// A unit of the system manager whose processes live in the namespace: the first unit
        /// below the root slices of a member's cgroup (``CgroupUnit``), never a name a user made
        /// below its own manager or in a delegated subtree.
        case unit
        /// A user's unit whose processes live in the namespace, as `UID/NAME`
        /// (`user-unit:1000/legacy-app.service`; `*` for the UID: any user's).
        case userUnit = "user-unit"
        /// The cgroup v2 path of any process in the namespace.
        case cgroup
    }

    public let kind: Kind
    public let glob: Glob

    /// Whether it is matched against the namespace's member processes (their cgroups), so
    /// that it can be judged only when all of them were read (``NamespaceIdentity/coverage``).
    public var readsMembers: Bool { [.unit, .userUnit, .cgroup, .nspawn].contains(kind) }

    public var description: String { "\(kind.rawValue):\(glob.pattern)" }

    /// Why a selector's text is not one.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Parses `KIND:GLOB`, or says what is wrong with it.
    public static func parse(_ text: String) -> Result<NamespaceSelector, Problem> {
        guard let colon = text.firstIndex(of: ":") else {
            return .failure(Problem("'\(text.shortened)' has no kind; write KIND:GLOB with KIND one of \(kinds)"))
        }
        let name = String(text[..<colon]), pattern = String(text[text.index(after: colon)...])
        guard let kind = Kind(rawValue: name) else {
            return .failure(Problem("unknown selector kind '\(name.shortened)'\(Suggestion.phrase(for: name, among: Kind.allCases.map(\.rawValue))); use one of \(kinds)"))
        }
        guard let glob = Glob(pattern) else {
            return .failure(Problem("'\(text.shortened)' is not a valid glob: \(Glob.problem(in: pattern) ?? "malformed")"))
        }
        if let problem = kind == .unit ? UnitSelector.problem(systemPattern: pattern)
            : kind == .userUnit ? UnitSelector.problem(userPattern: pattern) : nil {
            return .failure(Problem("'\(text.shortened)': \(problem)"))
        }
        return .success(NamespaceSelector(kind: kind, glob: glob))
    }

    /// Parses a space-separated list of selectors; the first problem found, if any.
    public static func parseList(_ text: String) -> Result<[NamespaceSelector], Problem> { parseWords(text, parse) }

    /// The names of this selector's kind that `identity` is known by.
    public func matches(_ identity: NamespaceIdentity) -> Bool {
        identity.names(of: kind).contains { glob.matches($0) }
    }

    private static var kinds: String { Kind.allCases.map { "\($0.rawValue):" }.joined(separator: ", ") }
}

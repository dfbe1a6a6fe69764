/// `[namespaces]` and `[namespaces.rules]`: which network namespaces besides the daemon's
/// own get a profile, and which one. Pure: ``decide(_:)`` is the whole policy.
public struct NamespaceRules: Sendable, Hashable {
    /// `manage =`: how far the daemon reaches.
    public enum Reach: String, Sendable, Hashable, CaseIterable {
        /// Only the daemon's own namespace (the default: today's behaviour).
        case none
        /// Also every namespace a rule matches.
        case matching
        /// Every network namespace on the host.
        case all
    }

    /// `explicit-values =`: what to do with a key a container's runtime set explicitly.
    public enum ExplicitValues: String, Sendable, Hashable, CaseIterable {
        /// Leave it alone (the default): the container asked for it.
        case keep
        /// Put the profile's value in force anyway.
        case override
    }

    /// `PROFILE = SELECTOR...`: one line of `[namespaces.rules]`.
    public struct Rule: Sendable, Hashable {
        public let profile: ProfileName
        public let selectors: [NamespaceSelector]
        /// Where the line is, for messages and `namespaces` output.
        public let location: SourceLocation

        public init(profile: ProfileName, selectors: [NamespaceSelector], location: SourceLocation) {
            self.profile = profile
            self.selectors = selectors
            self.location = location
        }

        public var text: String { "\(profile) = \(selectors.map(\.description).joined(separator: " "))" }
    }

    /// What the rules say of one namespace.
    public enum Decision: Sendable, Hashable {
        /// Keep `profile` in force there; `because` says which rule or setting chose it.
        case managed(profile: ProfileName, because: String)
        /// Leave it alone; `because` says why.
        case unmanaged(because: String)

        public var profile: ProfileName? {
            if case .managed(let profile, _) = self { return profile }
            return nil
        }

        public var reason: String {
            switch self {
            case .managed(_, let because), .unmanaged(let because): because
            }
        }
    }

    public var reach: Reach = .none
    /// `profile =`: for `manage = all`, the profile of namespaces no rule matches; the
    /// `[daemon]` profile when `nil`.
    public var fallback: ProfileName?
    public var explicitValues: ExplicitValues = .keep
    public var exclude: [NamespaceSelector] = []
    /// In file order: the first rule that matches wins.
    public var rules: [Rule] = []

    public init() {}

    /// Every profile the rules can put in force, each with the line naming it (for the
    /// config check that it exists).
    public var namedProfiles: [(ProfileName, SourceLocation)] { rules.map { ($0.profile, $0.location) } }

    /// The first selector of `exclude` or the rules that is matched against member
    /// processes (``NamespaceSelector/readsMembers``), if any.
    public var memberSelector: NamespaceSelector? {
        (exclude + rules.flatMap(\.selectors)).first(where: \.readsMembers)
    }

    /// Which profile `identity` gets, if any; `daemonProfile` is the `[daemon]` profile.
    /// The daemon's own namespace is not decided here: it always has the `[daemon]` profile.
    ///
    /// An exclusion holds whatever the member count: when an `exclude` or a rule is matched
    /// against member processes and a namespace's members could not all be read (or were not
    /// read yet), it is left alone rather than decided on part of them.
    public func decide(_ identity: NamespaceIdentity, daemonProfile: ProfileName) -> Decision {
        if identity.isOwn { return .managed(profile: daemonProfile, because: "the daemon's own namespace ([daemon] profile)") }
        if reach == .none { return .unmanaged(because: "manage = none: only the daemon's own namespace is managed") }
        if let selector = exclude.first(where: { $0.matches(identity) }) {
            return .unmanaged(because: "excluded by exclude = \(selector)")
        }
        if let gap = identity.coverage.gap, let selector = memberSelector {
            return .unmanaged(because: "left alone: \(gap), and \(selector) is judged by every member")
        }
        if let rule = rules.first(where: { $0.selectors.contains { $0.matches(identity) } }) {
            let selector = rule.selectors.first { $0.matches(identity) }!
            return .managed(profile: rule.profile, because: "rule \(rule.profile) = \(selector) at \(rule.location)")
        }
        if reach == .all {
            let profile = fallback ?? daemonProfile
            return .managed(profile: profile, because: "manage = all; no rule matches, so profile \(profile)")
        }
        return .unmanaged(because: "manage = matching and no rule matches")
    }

    /// The values to keep in force in a namespace: `values` for every key, except those
    /// its runtime set explicitly under `explicit-values = keep`.
    public func keptKeys(_ identity: NamespaceIdentity) -> [Tunable: Int] {
        explicitValues == .keep ? identity.explicit : [:]
    }
}

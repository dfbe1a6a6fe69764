/// What one network namespace must hold, by the rules: the one answer the daemon's fleet,
/// `status --netns`, `verify --netns`, `apply --netns` and `namespaces` share, so that they
/// cannot disagree.
public struct NamespaceExpectation: Sendable, Hashable {
    /// What the rules decided, and why.
    public let decision: NamespaceRules.Decision
    /// The policy it is held to: its rule's profile (or the fallback's) on the daemon's
    /// config; `nil` when the rules leave it alone.
    public let policy: Policy?
    /// Keys its runtime set explicitly, left alone under `explicit-values = keep`, with the
    /// values the runtime gave them.
    public let kept: [Tunable: Int]

    /// The values it must hold when the kernel has `actual`: the profile's, but the kept keys
    /// as they are. `nil` when it is not managed.
    public func expected(actual: KeepaliveValues) -> KeepaliveValues? {
        policy.map { $0.values.keeping(kept.keys, from: actual) }
    }
}

extension NamespaceRules {
    /// What `identity` must hold under `policy` (the daemon's own: its config holds these
    /// rules, and it resolved every profile they name). The daemon's own namespace holds the
    /// `[daemon]` profile, whole.
    public func expectation(for identity: NamespaceIdentity, policy: Policy) -> NamespaceExpectation {
        let decision = decide(identity, daemonProfile: policy.profile.name)
        if identity.isOwn { return NamespaceExpectation(decision: decision, policy: policy, kept: [:]) }
        return NamespaceExpectation(decision: decision, policy: decision.profile.flatMap { policy.forNamespace(profile: $0) },
                                    kept: keptKeys(identity))
    }
}

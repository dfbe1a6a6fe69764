/// The policy in force: the configured profile, resolved, with the config's local
/// overrides on top, and where every value came from.
public struct Policy: Sendable, Hashable {
    /// The merged configuration.
    public let config: DaemonConfig
    /// The resolved profile the config names.
    public let profile: ResolvedProfile
    /// The values to keep in force: the profile's, then the config's `[sysctl]` overrides.
    public let values: KeepaliveValues
    /// The file and line that set each value in ``values``.
    public let provenance: [Tunable: SourceLocation]
    /// The other profiles `[namespaces]` and `[sockets]` can put in force, resolved, by name.
    public let namespaceProfiles: [ProfileName: ResolvedProfile]

    /// Combines a config and its resolved profile (and those its namespace rules name).
    public init(config: DaemonConfig, profile: ResolvedProfile, namespaceProfiles: [ProfileName: ResolvedProfile] = [:]) {
        self.config = config
        self.profile = profile
        self.namespaceProfiles = namespaceProfiles
        var values = profile.values
        var provenance = profile.provenance
        for (key, override) in config.overrides {
            values[key] = override.value
            provenance[key] = override.location
        }
        self.values = values
        self.provenance = provenance
    }

    /// The policy of another network namespace: profile `name` (resolved at load), with
    /// the same config and `[sysctl]` overrides; `nil` if the config never names it.
    public func forNamespace(profile name: ProfileName) -> Policy? {
        if name == profile.name { return self }
        return namespaceProfiles[name].map { Policy(config: config, profile: $0, namespaceProfiles: namespaceProfiles) }
    }

    /// The keys the config overrides on top of the profile.
    public var overriddenKeys: [Tunable] { config.overrides.keys.sorted() }

    /// Builds the policy from a parsed config, resolving its profile through `lookup`.
    ///
    /// - Returns: the policy, or `nil` with at least one error among the diagnostics.
    public static func make(config: DaemonConfig, configDiagnostics: [Diagnostic],
                            knownProfiles: @autoclosure () -> [ProfileName],
                            lookup: ProfileLookup) -> (Policy?, [Diagnostic]) {
        if configDiagnostics.hasErrors { return (nil, configDiagnostics) }
        let name = config.profileName
        let (profile, found) = ProfileResolver.resolve(name, lookup: lookup)
        var diagnostics = configDiagnostics + found
        guard let profile else {
            if !found.hasErrors {
                let known = knownProfiles().map(\.rawValue)
                let location = config.profile?.location ?? SourceLocation(file: "<built-in config>", line: nil)
                diagnostics.append(.error(.unknownProfile, at: location,
                    "profile = \(name): no such profile\(Suggestion.phrase(for: name.rawValue, among: known)) (known: \(known.joined(separator: ", ")))"))
            }
            return (nil, diagnostics)
        }
        // Every profile [namespaces] names must resolve too: a rule naming a missing profile
        // rejects the config, as the [daemon] profile does, before anything is written.
        var others: [ProfileName: ResolvedProfile] = [:]
        var named = config.namespaceRules.namedProfiles
        if let fallback = config.namespaceProfile { named.append((fallback.value, fallback.location)) }
        named += config.socketRules.namedProfiles
        if config.socketRules.reach == .all, let fallback = config.socketsProfile { named.append((fallback.value, fallback.location)) }
        for (other, location) in named where other != name && others[other] == nil {
            let (resolved, problems) = ProfileResolver.resolve(other, lookup: lookup)
            diagnostics += problems
            if let resolved {
                others[other] = resolved
            } else if !problems.hasErrors {
                let known = knownProfiles().map(\.rawValue)
                diagnostics.append(.error(.unknownProfile, at: location,
                    "profile \(other): no such profile\(Suggestion.phrase(for: other.rawValue, among: known)) (known: \(known.joined(separator: ", ")))"))
            }
        }
        if diagnostics.hasErrors { return (nil, diagnostics) }
        return (Policy(config: config, profile: profile, namespaceProfiles: others), diagnostics)
    }
}

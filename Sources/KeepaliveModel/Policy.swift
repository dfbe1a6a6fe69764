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

    /// Combines a config and its resolved profile.
    public init(config: DaemonConfig, profile: ResolvedProfile) {
        self.config = config
        self.profile = profile
        var values = profile.values
        var provenance = profile.provenance
        for (key, override) in config.overrides {
            values[key] = override.value
            provenance[key] = override.location
        }
        self.values = values
        self.provenance = provenance
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
        return (Policy(config: config, profile: profile), diagnostics)
    }
}

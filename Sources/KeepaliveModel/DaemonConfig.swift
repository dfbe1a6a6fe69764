/// What the daemon does when the kernel's values drift from the profile.
public enum DriftPolicy: String, Sendable, Hashable, CaseIterable {
    /// Write the profile's value back and report it.
    case enforce
    /// Report the drift only.
    case warn
}

/// The settings of `keepalived-tune.conf` and its drop-ins, merged, each with its provenance.
public struct DaemonConfig: Sendable, Hashable {
    /// The default profile when no config names one.
    public static let defaultProfile = ProfileName("default")!
    /// The accepted range of `check-interval`, in seconds: 1 s to 1 h.
    public static let checkIntervalRange = 1...3600

    /// `profile =`: the profile to keep in force; `default` when unset.
    public var profile: Located<ProfileName>?
    /// `check-interval =`: seconds between re-reads of the kernel values; 5 when unset.
    public var checkInterval: Located<Int>?
    /// `on-drift =`: enforce (default) or warn.
    public var onDrift: Located<DriftPolicy>?
    /// `restore-on-stop =`: put back the values found at start on stop; no when unset.
    public var restoreOnStop: Located<Bool>?
    /// `[sysctl]`: local overrides on top of the profile.
    public var overrides: [Tunable: Located<Int>] = [:]
    /// `[connections] audit-interval =`: seconds between connection audits; 0 (default) never.
    public var auditInterval: Located<Int>?
    /// `[connections] alert-never-reaped =`: warn when one unit holds more never-reaped
    /// connections than this; 100 when unset.
    public var alertNeverReaped: Located<Int>?
    /// `[connections] enable-keepalive =`: the units whose sockets get keepalive: globs over
    /// the system manager's units, or `user-unit:UID/GLOB` for users' units.
    public var enableKeepalive: Located<[UnitSelector]>?
    /// `[namespaces] manage =`: none (default), matching or all.
    public var manage: Located<NamespaceRules.Reach>?
    /// `[namespaces] profile =`: for `manage = all`, namespaces no rule matches.
    public var namespaceProfile: Located<ProfileName>?
    /// `[namespaces] explicit-values =`: keep (default) or override.
    public var explicitValues: Located<NamespaceRules.ExplicitValues>?
    /// `[namespaces] exclude =`: selectors never touched.
    public var exclude: Located<[NamespaceSelector]>?
    /// `[namespaces] rescan-interval =`: seconds between scans of `/proc/*/ns/net`; 30 when unset.
    public var rescanInterval: Located<Int>?
    /// `[metrics] textfile =`: the `.prom` file for node_exporter's textfile collector;
    /// unset (the default): no metrics are written.
    public var metricsTextfileSetting: Located<String>?
    /// `[namespaces.rules]`, in file order (a profile named again keeps its place and takes
    /// the later selectors).
    public var namespaceRuleLines: [NamespaceRules.Rule] = []
    /// `[bpf] mode =`: auto (default), required or off (``HookSettings``).
    public var bpfMode: Located<HookSettings.Mode>?
    /// `[bpf] cgroup =`: the cgroup2 directory the programs attach to.
    public var bpfCgroup: Located<String>?
    /// `[bpf] pin =`: the directory on a bpf file system where links and maps are pinned.
    public var bpfPin: Located<String>?
    /// `[sockets] keepalive =`: none (default), matching or all.
    public var socketsKeepalive: Located<SocketRules.Reach>?
    /// `[sockets] profile =`: for `keepalive = all`, connections no rule matches.
    public var socketsProfile: Located<ProfileName>?
    /// `[sockets.rules]`, in file order, as `[namespaces.rules]`.
    public var socketRuleLines: [SocketRules.Rule] = []

    public init() {}

    /// The profile to use, with the built-in default.
    public var profileName: ProfileName { profile?.value ?? DaemonConfig.defaultProfile }
    /// The check interval in seconds, with the default of 5.
    public var checkIntervalSeconds: Int { checkInterval?.value ?? 5 }
    /// The drift policy, with the default of enforce.
    public var driftPolicy: DriftPolicy { onDrift?.value ?? .enforce }
    /// Whether to restore the original values on stop, with the default of no.
    public var restoresOnStop: Bool { restoreOnStop?.value ?? false }
    /// Seconds between connection audits; 0 (the default) means the daemon never audits.
    public var auditIntervalSeconds: Int { auditInterval?.value ?? 0 }
    /// The never-reaped count per unit above which an audit warns; 100 by default.
    public var alertNeverReapedCount: Int { alertNeverReaped?.value ?? 100 }
    /// The units whose sockets each audit gives keepalive; none by default.
    public var keepaliveUnits: [UnitSelector] { enableKeepalive?.value ?? [] }
    /// The accepted range of `audit-interval`: never (0), or 1 s to 1 day.
    public static let auditIntervalRange = 0...86400
    /// Seconds between full scans for namespaces; 30 by default.
    public var rescanIntervalSeconds: Int { rescanInterval?.value ?? 30 }
    /// The accepted range of `rescan-interval`: 1 s to 1 h.
    public static let rescanIntervalRange = 1...3600

    /// The metrics textfile's path, if metrics are to be written.
    public var metricsTextfile: String? { metricsTextfileSetting?.value }

    /// `[namespaces]` and `[namespaces.rules]` as one pure policy.
    public var namespaceRules: NamespaceRules {
        var rules = NamespaceRules()
        rules.reach = manage?.value ?? .none
        rules.fallback = namespaceProfile?.value
        rules.explicitValues = explicitValues?.value ?? .keep
        rules.exclude = exclude?.value ?? []
        rules.rules = namespaceRuleLines
        return rules
    }

    /// The keys a config file may hold.
    public static let schema = Schema<DaemonConfig>(kind: "config", rules: [
        .init(section: "daemon", key: "profile") { config, text, location in
            store(ValueParser.profileName(text, key: "profile", at: location), in: &config.profile, at: location)
        },
        .init(section: "daemon", key: "check-interval") { config, text, location in
            store(span(text, key: "check-interval", in: checkIntervalRange, described: "1s..1h", at: location),
                  in: &config.checkInterval, at: location)
        },
        .init(section: "daemon", key: "on-drift") { config, text, location in
            let parsed: Result<DriftPolicy, Diagnostic> = DriftPolicy(rawValue: text.asciiLowercased).map { .success($0) }
                ?? .failure(.error(.invalidChoice, at: location,
                    "on-drift = \(text.shortened) is not valid; use 'enforce' or 'warn'"))
            return store(parsed, in: &config.onDrift, at: location)
        },
        .init(section: "daemon", key: "restore-on-stop") { config, text, location in
            store(parseBoolean(text, key: "restore-on-stop", at: location), in: &config.restoreOnStop, at: location)
        },
        .init(section: "connections", key: "audit-interval") { config, text, location in
            store(span(text, key: "audit-interval", in: auditIntervalRange, described: "0 (never) or 1s..1d", at: location),
                  in: &config.auditInterval, at: location)
        },
        .init(section: "connections", key: "alert-never-reaped") { config, text, location in
            let parsed: Result<Int, Diagnostic> = Int(text).flatMap { (0...1_000_000).contains($0) ? $0 : nil }.map { .success($0) }
                ?? .failure(.error(.notANumber, at: location,
                    "alert-never-reaped = \(text.shortened) is not a count; use a whole number 0..1000000"))
            return store(parsed, in: &config.alertNeverReaped, at: location)
        },
        .init(section: "connections", key: "enable-keepalive") { config, text, location in
            store(UnitSelector.parseList(text).mapError { .error(.invalidChoice, at: location, "enable-keepalive: \($0.description)") },
                  in: &config.enableKeepalive, at: location)
        },
        .init(section: "namespaces", key: "manage") { config, text, location in
            store(choice(text, key: "manage", as: NamespaceRules.Reach.self, at: location), in: &config.manage, at: location)
        },
        .init(section: "namespaces", key: "profile") { config, text, location in
            store(ValueParser.profileName(text, key: "profile", at: location), in: &config.namespaceProfile, at: location)
        },
        .init(section: "namespaces", key: "explicit-values") { config, text, location in
            store(choice(text, key: "explicit-values", as: NamespaceRules.ExplicitValues.self, at: location),
                  in: &config.explicitValues, at: location)
        },
        .init(section: "namespaces", key: "exclude") { config, text, location in
            store(selectors(text, key: "exclude", at: location), in: &config.exclude, at: location)
        },
        .init(section: "namespaces", key: "rescan-interval") { config, text, location in
            store(span(text, key: "rescan-interval", in: rescanIntervalRange, described: "1s..1h", at: location),
                  in: &config.rescanInterval, at: location)
        },
        .init(section: "metrics", key: "textfile") { config, text, location in
            store(textfile(text, at: location), in: &config.metricsTextfileSetting, at: location)
        },
        .init(section: "namespaces.rules", anyKey: "PROFILE") { config, key, text, location in
            ruleLine(key, text, section: "namespaces.rules", at: location, selectors: selectors, into: &config.namespaceRuleLines)
        },
    ] + hookRules + ValueParser.sysctlRules(\DaemonConfig.overrides))

    /// One `PROFILE = SELECTOR...` line of a rules section, added to `lines` in file order (a
    /// profile named again keeps its place and takes the later selectors); the diagnostic if
    /// the profile name or a selector is malformed.
    static func ruleLine(_ key: String, _ text: String, section: String, at location: SourceLocation,
                         selectors parse: (String, String, SourceLocation) -> Result<[NamespaceSelector], Diagnostic>,
                         into lines: inout [NamespaceRules.Rule]) -> Diagnostic? {
        let profile: ProfileName
        switch ValueParser.profileName(key, key: "[\(section)] \(key.shortened)", at: location) {
        case .success(let name): profile = name
        case .failure(let diagnostic): return diagnostic
        }
        switch parse(text, "rule \(profile)", location) {
        case .failure(let diagnostic): return diagnostic
        case .success(let selectors):
            let rule = NamespaceRules.Rule(profile: profile, selectors: selectors, location: location)
            if let index = lines.firstIndex(where: { $0.profile == profile }) {
                lines[index] = rule
            } else {
                lines.append(rule)
            }
            return nil
        }
    }

    /// One of an enum's raw values, case-insensitively.
    static func choice<T: RawRepresentable & CaseIterable>(_ text: String, key: String, as: T.Type,
                                                                   at location: SourceLocation) -> Result<T, Diagnostic> where T.RawValue == String {
        T(rawValue: text.asciiLowercased).map { .success($0) }
            ?? .failure(.error(.invalidChoice, at: location,
                "\(key) = \(text.shortened) is not valid; use \(T.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))"))
    }

    /// An absolute path ending in `.prom`: node_exporter's textfile collector reads only
    /// such files.
    private static func textfile(_ text: String, at location: SourceLocation) -> Result<String, Diagnostic> {
        guard text.hasPrefix("/"), !text.contains(" "), !text.split(separator: "/").contains("..") else {
            return .failure(.error(.invalidChoice, at: location,
                "textfile = \(text.shortened) is not an absolute path; use one such as /var/lib/prometheus/node-exporter/keepalived-tune.prom"))
        }
        guard text.hasSuffix(".prom"), text.count > 6, !text.hasSuffix("/.prom") else {
            return .failure(.error(.invalidChoice, at: location,
                "textfile = \(text.shortened) does not end in .prom; node_exporter's textfile collector reads only *.prom files"))
        }
        return .success(text)
    }

    /// A space-separated list of `KIND:GLOB` selectors.
    static func selectors(_ text: String, key: String, at location: SourceLocation) -> Result<[NamespaceSelector], Diagnostic> {
        NamespaceSelector.parseList(text).mapError { .error(.invalidChoice, at: location, "\(key): \($0.description)") }
    }

    /// Parses the main file and then each drop-in, later files winning key by key.
    public static func parse(_ sources: [SourceText]) -> (DaemonConfig, [Diagnostic]) {
        var config = DaemonConfig()
        var diagnostics: [Diagnostic] = []
        for source in sources {
            diagnostics += schema.read(source, into: &config)
        }
        return (config, diagnostics)
    }

    /// A time span in seconds within `range`.
    private static func span(_ text: String, key: String, in range: ClosedRange<Int>, described: String,
                             at location: SourceLocation) -> Result<Int, Diagnostic> {
        TimeSpan.parseSeconds(text)
            .mapError { Diagnostic.error(.notANumber, at: location, "\(key): \($0.explanation)") }
            .flatMap { seconds in
                range.contains(seconds) ? .success(seconds)
                    : .failure(.error(.outOfRange, at: location, "\(key) = \(text.shortened) is out of range; it must be \(described)"))
            }
    }

    /// Stores a parsed value with its location, or returns the parse error.
    static func store<T>(_ result: Result<T, Diagnostic>, in slot: inout Located<T>?,
                                 at location: SourceLocation) -> Diagnostic? {
        switch result {
        case .success(let value): slot = Located(value, at: location); return nil
        case .failure(let diagnostic): return diagnostic
        }
    }

    /// systemd's booleans: yes/no, true/false, on/off, 1/0.
    static func parseBoolean(_ text: String, key: String, at location: SourceLocation) -> Result<Bool, Diagnostic> {
        switch text.asciiLowercased {
        case "yes", "true", "on", "1": .success(true)
        case "no", "false", "off", "0": .success(false)
        default: .failure(.error(.invalidChoice, at: location,
            "\(key) = \(text.shortened) is not a boolean; use 'yes' or 'no'"))
        }
    }
}

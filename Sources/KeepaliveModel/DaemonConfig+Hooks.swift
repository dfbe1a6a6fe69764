/// `[bpf]`, `[sockets]` and `[sockets.rules]`: the kernel hooks' settings (issue 27).
extension DaemonConfig {
    /// `[sockets]` and `[sockets.rules]` as one pure policy.
    public var socketRules: SocketRules {
        var rules = SocketRules()
        rules.reach = socketsKeepalive?.value ?? .none
        rules.fallback = socketsProfile?.value
        rules.rules = socketRuleLines
        return rules
    }

    /// Whether the config has a `[bpf]` key: then the sysctl write monitor is wanted too
    /// (the built-in default loads no program).
    public var configuresHooks: Bool { bpfMode != nil || bpfCgroup != nil || bpfPin != nil }

    /// `[bpf]`, with its defaults.
    public var hookSettings: HookSettings {
        HookSettings(mode: bpfMode?.value ?? .auto, cgroup: bpfCgroup?.value, pin: bpfPin?.value ?? HookSettings.defaultPin)
    }

    /// The keys of `[bpf]`, `[sockets]` and `[sockets.rules]`.
    static let hookRules: [Schema<DaemonConfig>.Rule] = [
        .init(section: "bpf", key: "mode") { config, text, location in
            store(choice(text, key: "mode", as: HookSettings.Mode.self, at: location), in: &config.bpfMode, at: location)
        },
        .init(section: "bpf", key: "cgroup") { config, text, location in
            store(absolutePath(text, key: "cgroup", at: location), in: &config.bpfCgroup, at: location)
        },
        .init(section: "bpf", key: "pin") { config, text, location in
            store(absolutePath(text, key: "pin", at: location), in: &config.bpfPin, at: location)
        },
        .init(section: "sockets", key: "keepalive") { config, text, location in
            store(choice(text, key: "keepalive", as: SocketRules.Reach.self, at: location), in: &config.socketsKeepalive, at: location)
        },
        .init(section: "sockets", key: "profile") { config, text, location in
            store(ValueParser.profileName(text, key: "profile", at: location), in: &config.socketsProfile, at: location)
        },
        .init(section: "sockets.rules", anyKey: "PROFILE") { config, key, text, location in
            ruleLine(key, text, section: "sockets.rules", at: location, selectors: socketSelectors, into: &config.socketRuleLines)
        },
    ]

    /// The selectors of a socket rule: those of `[namespaces]` that name a cgroup.
    static func socketSelectors(_ text: String, key: String, at location: SourceLocation) -> Result<[NamespaceSelector], Diagnostic> {
        selectors(text, key: key, at: location).flatMap { selectors in
            if let wrong = selectors.first(where: { !SocketRules.kinds.contains($0.kind) }) {
                return .failure(.error(.invalidChoice, at: location,
                    "\(key): \(wrong) names a network namespace, not a workload: a connection is selected by the cgroup its socket was made in; use one of \(SocketRules.kinds.map { "\($0.rawValue):" }.joined(separator: ", "))"))
            }
            return .success(selectors)
        }
    }

    /// An absolute path without `..`.
    static func absolutePath(_ text: String, key: String, at location: SourceLocation) -> Result<String, Diagnostic> {
        guard text.hasPrefix("/"), !text.split(separator: "/").contains("..") else {
            return .failure(.error(.invalidChoice, at: location, "\(key) = \(text.shortened) is not an absolute path"))
        }
        return .success(text.count > 1 && text.hasSuffix("/") ? String(text.dropLast()) : text)
    }
}

/// `[bpf]`: whether and where the kernel hooks run.
public struct HookSettings: Sendable, Hashable {
    /// `[bpf] mode =`.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Use the hooks where the kernel and privileges allow; else fall back and say why, once.
        case auto
        /// Refuse to start without them (exit 3).
        case required
        /// Never load them.
        case off
    }

    /// Where links and maps are pinned by default.
    public static let defaultPin = "/sys/fs/bpf/keepalived-tune"

    public let mode: Mode
    /// The cgroup2 directory to attach to; `nil`: the cgroup2 mount.
    public let cgroup: String?
    /// The pin directory.
    public let pin: String

    public init(mode: Mode, cgroup: String?, pin: String) {
        self.mode = mode
        self.cgroup = cgroup
        self.pin = pin
    }
}

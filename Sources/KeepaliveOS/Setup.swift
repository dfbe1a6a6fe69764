import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Where keepalived-tune finds its config, profiles and sysctls: the defaults, or what the
/// command line says. The daemon and every command load through this one type.
public struct Setup: Sendable {
    /// The config file used when `--config` is not given.
    public static let defaultConfigPath = "/etc/keepalived-tune/keepalived-tune.conf"

    /// The main config file; it may be missing.
    public var configPath: String
    /// The profile search path.
    public var searchPath: ProfileSearchPath
    /// The directory the sysctls are read and written under.
    public var sysctlRoot: String
    /// The prefix under which /etc/sysctl.conf and the sysctl.d directories are scanned
    /// for conflicts: `/`, or a temp dir in tests.
    public var sysctlConfRoot: String
    /// Where the apply lock and the daemon's published state live (see
    /// ``defaultRuntimeDirectory(sysctlRoot:)``).
    public var runtimeDirectory: String
    let reader: FileReader

    /// A setup of these paths. Every file and event source of it goes through `reader`'s
    /// seam: the live one unless a test hands in another (the OS layer's one `.live`; the
    /// types below it take the caller's seam and have no default).
    public init(configPath: String = Setup.defaultConfigPath,
                profileDirectories: [String]? = nil,
                sysctlRoot: String = SysctlTree.defaultRoot,
                sysctlConfRoot: String = "/",
                runtimeDirectory: String? = nil,
                reader: FileReader = FileReader(syscalls: .live)) {
        self.configPath = configPath
        self.searchPath = ProfileSearchPath(directories: profileDirectories ?? ProfileSearchPath.defaultDirectories,
                                            reader: reader)
        self.sysctlRoot = sysctlRoot
        self.sysctlConfRoot = sysctlConfRoot
        self.runtimeDirectory = runtimeDirectory ?? Setup.defaultRuntimeDirectory(sysctlRoot: sysctlRoot)
        self.reader = reader
    }

    /// The runtime directory: under a stand-in sysctl root, `ROOT/.keepalived-tune` (a test's
    /// state stays with its root and never meets a real daemon's); under systemd, the
    /// service's `RUNTIME_DIRECTORY`; otherwise `/run/keepalived-tune`.
    public static func defaultRuntimeDirectory(sysctlRoot: String) -> String {
        if sysctlRoot != SysctlTree.defaultRoot { return "\(sysctlRoot)/.keepalived-tune" }
        if let runtime = getenv("RUNTIME_DIRECTORY").map({ String(cString: $0) }),
           let first = runtime.split(separator: ":").first, first.hasPrefix("/") {
            return String(first)
        }
        return "/run/keepalived-tune"
    }

    /// The lock every writer of the values takes.
    public func applyLock() -> ApplyLock { ApplyLock(directory: runtimeDirectory, syscalls: syscalls) }

    /// Whether ownership and permissions of what is read are checked (running as root).
    public var strictModes: Bool { reader.strictModes }

    /// The system-call seam every file and event source of this setup goes through.
    public var syscalls: Syscalls { reader.syscalls }

    /// The drop-in directory beside the config: `keepalived-tune.conf.d`.
    public var dropInDirectory: String { "\(configPath).d" }

    /// Reads the config and its drop-ins (in lexical order) and parses them.
    ///
    /// A missing main file is not an error: the built-in defaults (`profile = default`) serve.
    public func loadConfig() -> ConfigLoad {
        var sources: [SourceText] = []
        var diagnostics: [Diagnostic] = []
        var paths = [configPath]
        switch reader.confFiles(in: dropInDirectory) {
        case .success(let names): paths += names.map { "\(dropInDirectory)/\($0)" }
        case .failure(let diagnostic): diagnostics.append(diagnostic)
        }
        for path in paths {
            switch reader.read(path) {
            case .read(let source): sources.append(source)
            case .missing: continue
            case .failed(let diagnostic): diagnostics.append(diagnostic)
            }
        }
        let (config, found) = DaemonConfig.parse(sources)
        return ConfigLoad(config: config, files: sources.map(\.path),
                          emptyFiles: sources.filter(\.bytes.isEmpty).map(\.path), diagnostics: diagnostics + found)
    }

    /// Loads the config and resolves the policy it names.
    public func loadPolicy() -> PolicyLoad {
        let load = loadConfig()
        let (policy, diagnostics) = Policy.make(config: load.config, configDiagnostics: load.diagnostics,
                                                knownProfiles: searchPath.names(),
                                                lookup: searchPath.lookup)
        return PolicyLoad(policy: policy, configFiles: load.files, emptyFiles: load.emptyFiles, diagnostics: diagnostics)
    }

    /// The scanner for sysctl.d files that disagree with the policy.
    public func sysctlConfScanner() -> SysctlConfScanner { SysctlConfScanner(root: sysctlConfRoot, reader: reader) }

    /// A fresh sysctl tree under ``sysctlRoot``.
    public func sysctlTree() -> SysctlTree { SysctlTree(root: sysctlRoot, syscalls: reader.syscalls, lock: applyLock()) }
}

/// The parsed config and what reading it found.
public struct ConfigLoad: Sendable {
    public let config: DaemonConfig
    /// The files that were read, main file first; empty when none exist.
    public let files: [String]
    /// Those of them that read as empty: no byte was read, whatever fstat(2) said a moment
    /// earlier (a truncation in progress shows its new size before its inotify event).
    public let emptyFiles: [String]
    public let diagnostics: [Diagnostic]
}

/// The policy, or the reasons there is none.
public struct PolicyLoad: Sendable {
    /// The policy; `nil` exactly when ``diagnostics`` hold an error.
    public let policy: Policy?
    public let configFiles: [String]
    /// Config files that were empty (0 bytes).
    public let emptyFiles: [String]
    public let diagnostics: [Diagnostic]
}

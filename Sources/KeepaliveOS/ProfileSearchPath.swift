import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Finds profiles in search-path order: the on-disk directories first, the built-ins last.
/// The first directory holding `NAME.conf` wins, so `/etc` overrides `/usr/lib`.
public struct ProfileSearchPath: Sendable {
    /// The on-disk directories used when none are given.
    public static let defaultDirectories = [
        "/etc/keepalived-tune/profiles",
        "/usr/local/lib/keepalived-tune/profiles",
        "/usr/lib/keepalived-tune/profiles",
    ]

    /// The on-disk directories, searched in order before the built-ins.
    public let directories: [String]
    let reader: FileReader

    /// The search path of `directories`, read with `reader`.
    public init(directories: [String] = ProfileSearchPath.defaultDirectories, reader: FileReader) {
        self.directories = directories.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.reader = reader
    }

    /// The layer index of the built-in profiles: after every directory.
    public var builtinLayer: Int { directories.count }

    /// A human name for a layer: its directory or `<built-in>`.
    public func layerName(_ layer: Int) -> String {
        layer < directories.count ? directories[layer] : BuiltinProfiles.directory
    }

    /// Looks `name` up in the layers after `after` (all layers when `nil`).
    public func lookup(_ name: ProfileName, after: Int?) -> ProfileLookupResult {
        let start = after.map { $0 + 1 } ?? 0
        for layer in start..<directories.count {
            switch read("\(directories[layer])/\(name.fileName)") {
            case .missing: continue
            case .failed(let diagnostic): return .failed(diagnostic)
            case .read(let source): return .found(ProfileFile(layer: layer, source: source))
            }
        }
        if start <= builtinLayer, let source = BuiltinProfiles.all[name] {
            return .found(ProfileFile(layer: builtinLayer, source: source))
        }
        return .notFound
    }

    /// Every profile file on the path, layer by layer, with `shadowed` set for those hidden
    /// by a file of the same name in an earlier layer. Files whose names are not valid
    /// profile names are reported, never opened.
    public func inventory() -> (entries: [InventoryEntry], diagnostics: [Diagnostic]) {
        var entries: [InventoryEntry] = []
        var diagnostics: [Diagnostic] = []
        var seen: Set<ProfileName> = []
        for (layer, directory) in directories.enumerated() {
            switch reader.confFiles(in: directory) {
            case .failure(let diagnostic): diagnostics.append(diagnostic)
            case .success(let files):
                for file in files {
                    let stem = String(file.dropLast(".conf".count))
                    guard let name = ProfileName(stem) else {
                        diagnostics.append(.warning(.invalidProfileName, at: SourceLocation(file: "\(directory)/\(file)", line: nil),
                            "ignored: \(ProfileName.problem(with: stem) ?? "invalid profile name")"))
                        continue
                    }
                    entries.append(InventoryEntry(name: name, layer: layer, path: "\(directory)/\(file)",
                                                  shadowed: !seen.insert(name).inserted))
                }
            }
        }
        for name in BuiltinProfiles.all.keys.sorted() {
            entries.append(InventoryEntry(name: name, layer: builtinLayer, path: BuiltinProfiles.all[name]!.path,
                                          shadowed: !seen.insert(name).inserted))
        }
        return (entries, diagnostics)
    }

    /// The names of every profile on the path, sorted.
    public func names() -> [ProfileName] {
        Array(Set(inventory().entries.map(\.name))).sorted()
    }

    /// Resolves the profile `name`, following includes through this path.
    public func resolve(_ name: ProfileName) -> (ResolvedProfile?, [Diagnostic]) {
        ProfileResolver.resolve(name, lookup: lookup)
    }

    /// Resolves the profile in one particular file (for `check`, which validates shadowed
    /// files too).
    public func resolve(_ entry: InventoryEntry) -> (ResolvedProfile?, [Diagnostic]) {
        let source: SourceText
        if entry.layer == builtinLayer, let builtin = BuiltinProfiles.all[entry.name] {
            source = builtin
        } else {
            switch read(entry.path) {
            case .read(let read): source = read
            case .missing: return (nil, [])
            case .failed(let diagnostic): return (nil, [diagnostic])
            }
        }
        return ProfileResolver.resolve(entry.name, file: ProfileFile(layer: entry.layer, source: source), lookup: lookup)
    }
}

extension ProfileSearchPath {
    /// Reads a profile file, refusing a symlink that leads out of the profile directories.
    func read(_ path: String) -> FileReader.Outcome {
        if let problem = escapingSymlink(path) { return .failed(problem) }
        return reader.read(path)
    }

    /// Why `path` is a symlink that may not be followed, or `nil`.
    ///
    /// A link to another file inside one of the search path's directories is fine (an
    /// alias); a link anywhere else would let a profile name read any file.
    func escapingSymlink(_ path: String) -> Diagnostic? {
        let calls = reader.syscalls
        guard case .success(let status) = calls.linkStatus(path), status.kind == .symlink else { return nil }
        let target: String
        switch calls.realPath(path) {
        case .success(let resolved): target = resolved
        case .failure(let error) where error.code == ENOENT:
            let named = (try? calls.readLink(path).get()) ?? "?"
            return .error(.danglingSymlink, at: SourceLocation(file: path, line: nil),
                "is a dangling symlink to \(named), which does not exist; fix or remove the link")
        case .failure(let error):
            // Fail closed: a link that cannot be resolved (ENAMETOOLONG, ELOOP) is not read.
            return .error(.unsafeSymlink, at: SourceLocation(file: path, line: nil),
                "is a symlink that cannot be resolved (\(error)); refusing it, since it cannot be shown to stay inside the profile directories")
        }
        let roots = directories.compactMap { try? calls.realPath($0).get() }
        if roots.contains(where: { target.hasPrefix($0 == "/" ? "/" : $0 + "/") }) { return nil }
        return .error(.unsafeSymlink, at: SourceLocation(file: path, line: nil),
            "is a symlink to \(target), outside the profile directories; refusing it (copy the profile into \(directories.first ?? "the profile directory") instead)")
    }
}

/// One profile file found on the search path.
public struct InventoryEntry: Sendable, Hashable {
    public let name: ProfileName
    public let layer: Int
    public let path: String
    /// Whether an earlier layer holds a profile of the same name, which wins.
    public let shadowed: Bool
}

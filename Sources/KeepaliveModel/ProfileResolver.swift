/// A fully resolved profile: its include chain merged, every value known, and each value's
/// provenance (the file and line that set it).
public struct ResolvedProfile: Sendable, Hashable {
    public let name: ProfileName
    public let description: String
    public let values: KeepaliveValues
    /// The file and line that set each value.
    public let provenance: [Tunable: SourceLocation]
    /// The file the profile itself lives in.
    public let source: String
    /// The files of the include chain, the profile's own first.
    public let chain: [String]

    public init(name: ProfileName, description: String, values: KeepaliveValues,
                provenance: [Tunable: SourceLocation], source: String, chain: [String]) {
        self.name = name
        self.description = description
        self.values = values
        self.provenance = provenance
        self.source = source
        self.chain = chain
    }
}

/// Where a profile file was found: its layer in the search path (0 is searched first)
/// and its contents.
public struct ProfileFile: Sendable, Hashable {
    public let layer: Int
    public let source: SourceText

    public init(layer: Int, source: SourceText) {
        self.layer = layer
        self.source = source
    }
}

/// The answer of a profile lookup.
public enum ProfileLookupResult: Sendable {
    case found(ProfileFile)
    case notFound
    /// The file exists but could not be read; the diagnostic says why.
    case failed(Diagnostic)
}

/// Finds the profile `name` in the search path, in layers strictly after `after` when given.
public typealias ProfileLookup = (_ name: ProfileName, _ after: Int?) -> ProfileLookupResult

/// Follows a profile's `include` chain and merges it, later (including) files winning.
///
/// A profile that includes its own name extends the profile of that name further down the
/// search path, as in tuned: `/etc/keepalived-tune/profiles/server.conf` can say
/// `include = server` to start from the shipped `server`.
public enum ProfileResolver {
    /// The longest include chain accepted.
    public static let maximumDepth = 16

    /// Resolves `name`; on failure the diagnostics hold at least one error.
    public static func resolve(_ name: ProfileName, lookup: ProfileLookup) -> (ResolvedProfile?, [Diagnostic]) {
        switch lookup(name, nil) {
        case .notFound: return (nil, [])
        case .failed(let diagnostic): return (nil, [diagnostic])
        case .found(let file): return resolve(name, file: file, lookup: lookup)
        }
    }

    /// Resolves the profile `name` whose file is `file`.
    public static func resolve(_ name: ProfileName, file: ProfileFile,
                               lookup: ProfileLookup) -> (ResolvedProfile?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var chain: [(document: ProfileDocument, layer: Int)] = []
        var next: (name: ProfileName, file: ProfileFile)? = (name, file)
        while let (currentName, currentFile) = next {
            next = nil
            let (document, found) = ProfileDocument.parse(currentFile.source, name: currentName)
            diagnostics += found
            if found.hasErrors { return (nil, diagnostics) }
            chain.append((document, currentFile.layer))
            guard let include = document.include else { break }
            let here = include.location
            if chain.count >= maximumDepth {
                diagnostics.append(.error(.includeTooDeep, at: here,
                    "include chain is deeper than \(maximumDepth) profiles (\(chain.map(\.document.name.rawValue).joined(separator: " -> ")) -> …)"))
                return (nil, diagnostics)
            }
            let extendsItself = include.value == document.name
            switch lookup(include.value, extendsItself ? currentFile.layer : nil) {
            case .failed(let diagnostic):
                diagnostics.append(diagnostic)
                return (nil, diagnostics)
            case .notFound where extendsItself:
                diagnostics.append(.error(.includeCycle, at: here,
                    "profile '\(document.name)' includes itself, and there is no '\(document.name)' further down the search path to extend"))
                return (nil, diagnostics)
            case .notFound:
                diagnostics.append(.error(.missingInclude, at: here,
                    "include = \(include.value): no profile named '\(include.value)' in the search path"))
                return (nil, diagnostics)
            case .found(let includedFile):
                if chain.contains(where: { $0.document.name == include.value && $0.layer == includedFile.layer }) {
                    let names = chain.map(\.document.name.rawValue) + [include.value.rawValue]
                    diagnostics.append(.error(.includeCycle, at: here,
                        "include cycle: \(names.joined(separator: " -> "))"))
                    return (nil, diagnostics)
                }
                next = (include.value, includedFile)
            }
        }
        return merge(chain.map(\.document), diagnostics: diagnostics)
    }

    /// Folds the chain from the deepest include up, so the including file wins.
    static func merge(_ chain: [ProfileDocument], diagnostics: [Diagnostic]) -> (ResolvedProfile?, [Diagnostic]) {
        let top = chain[0]
        var description: String?
        var settings: [Tunable: Located<Int>] = [:]
        for document in chain.reversed() {
            if let text = document.description { description = text.value }
            settings.merge(document.settings) { _, new in new }
        }
        let missing = Tunable.allCases.filter { settings[$0] == nil }
        guard missing.isEmpty else {
            let set = Tunable.allCases.filter { settings[$0] != nil }.map(\.sysctlName)
            return (nil, diagnostics + [.error(.incompleteProfile, at: SourceLocation(file: top.path, line: 1),
                "profile '\(top.name)' does not set \(missing.map(\.sysctlName).joined(separator: ", "))"
                + (set.isEmpty ? "" : " (it sets only \(set.joined(separator: ", ")))")
                + "; set them in [sysctl] or add 'include = default' under [profile]")])
        }
        var values = KeepaliveValues.kernelDefaults
        var provenance: [Tunable: SourceLocation] = [:]
        for (key, setting) in settings {
            values[key] = setting.value
            provenance[key] = setting.location
        }
        let profile = ResolvedProfile(
            name: top.name, description: description ?? "(no description)", values: values,
            provenance: provenance, source: top.path, chain: chain.map(\.path))
        return (profile, diagnostics)
    }
}

/// A declarative table of the sections and keys a kind of file may hold, and how each
/// value is parsed into the document being built (in the manner of systemd's conf-parser).
public struct Schema<Document>: Sendable {
    /// One key: where it lives, how it is spelt, and how its value is stored.
    public struct Rule: Sendable {
        /// The section the key belongs to.
        public let section: String
        /// The canonical spelling, used in messages and suggestions.
        public let key: String
        /// Whether a key as written in the file is this one (after normalisation).
        let matches: @Sendable (String) -> Bool
        /// Parses the value into the document, or says why it cannot; given the key as
        /// written, the value and where they are.
        let store: @Sendable (inout Document, String, String, SourceLocation) -> Diagnostic?
        /// Whether any key is accepted (a section of named entries, such as
        /// `[namespaces.rules]`); each key as written is then its own slot.
        let anyKey: Bool

        public init(section: String, key: String,
                    matches: (@Sendable (String) -> Bool)? = nil,
                    store: @escaping @Sendable (inout Document, String, SourceLocation) -> Diagnostic?) {
            self.section = section
            self.key = key
            self.matches = matches ?? { $0 == key }
            self.store = { document, _, value, location in store(&document, value, location) }
            anyKey = false
        }

        /// A section whose keys are names the file chooses (`PROFILE = SELECTOR...`);
        /// `described` names them in messages.
        public init(section: String, anyKey described: String,
                    store: @escaping @Sendable (inout Document, String, String, SourceLocation) -> Diagnostic?) {
            self.section = section
            self.key = described
            self.matches = { _ in true }
            self.store = store
            anyKey = true
        }
    }

    /// A word for the kind of file, used in messages (`profile`, `config`).
    public let kind: String
    /// Every key the file may hold.
    public let rules: [Rule]

    public init(kind: String, rules: [Rule]) {
        self.kind = kind
        self.rules = rules
    }

    /// The section names, in table order.
    var sections: [String] {
        rules.reduce(into: [String]()) { if !$0.contains($1.section) { $0.append($1.section) } }
    }

    /// The sections as a phrase: `[daemon], [connections] and [sysctl]`.
    func listed(_ conjunction: String) -> String {
        let names = sections.map { "[\($0)]" }
        guard names.count > 1 else { return names.joined() }
        return names.dropLast().joined(separator: ", ") + " \(conjunction) " + names.last!
    }

    /// Reads `source` into `document`, returning every diagnostic found.
    ///
    /// Unknown sections and keys are errors with a suggestion where one is close; a key
    /// set twice is a warning naming both lines, and the later one wins.
    public func read(_ source: SourceText, into document: inout Document) -> [Diagnostic] {
        let ini = IniDocument(source)
        var diagnostics = ini.diagnostics
        var section: String?? = .none          // .none: before any header; .some(nil): skipping
        var firstLine: [String: Int] = [:]     // "section/key" -> line it was first set on
        for item in ini.items {
            switch item {
            case .section(let name?, let line):
                if sections.contains(name) {
                    section = .some(name)
                } else {
                    section = .some(nil)
                    diagnostics.append(.error(.unknownSection, at: source.location(line),
                        "unknown section [\(name)]\(Suggestion.phrase(for: name, among: sections)); a \(kind) file has \(listed("and"))"))
                }
            case .section(nil, _):
                section = .some(nil)
            case .entry(let key, let value, let line):
                let location = source.location(line)
                guard case .some(let current) = section else {
                    diagnostics.append(.error(.keyOutsideSection, at: location,
                        "'\(key.shortened)' comes before any section header; put it under \(listed("or"))"))
                    continue
                }
                guard let current else { continue }   // already reported its section
                let candidates = rules.filter { $0.section == current }
                guard let rule = candidates.first(where: { $0.matches(key) }) else {
                    diagnostics.append(.error(.unknownKey, at: location,
                        "unknown key '\(key.shortened)' in [\(current)]\(Suggestion.phrase(for: key, among: candidates.map(\.key)))"))
                    continue
                }
                let name = rule.anyKey ? key : rule.key
                let slot = "\(current)/\(name)"
                if let earlier = firstLine[slot] {
                    diagnostics.append(.warning(.duplicateKey, at: location,
                        "\(name) is set again here; this line (\(line)) wins over line \(earlier)"))
                }
                firstLine[slot] = line
                if value.isEmpty {
                    diagnostics.append(.error(.emptyValue, at: location, "\(name) has an empty value"))
                } else if let problem = rule.store(&document, key, value, location) {
                    diagnostics.append(problem)
                }
            }
        }
        return diagnostics.sorted { ($0.location.line ?? 0) < ($1.location.line ?? 0) }
    }
}

/// Parsers for the kinds of values files hold, each returning a diagnostic on failure.
public enum ValueParser {
    /// Parses a value for one of the three tunables, enforcing its range.
    public static func tunable(_ key: Tunable, _ text: String, at location: SourceLocation) -> Result<Int, Diagnostic> {
        let spec = key.spec
        let parsed = spec.unit == .seconds ? TimeSpan.parseSeconds(text) : TimeSpan.parseInteger(text)
        let unitWord = spec.unit == .seconds ? " seconds" : ""
        let rangeText = "\(spec.range.lowerBound)..\(spec.range.upperBound)\(unitWord), the kernel's per-socket limit"
        switch parsed {
        case .failure(.tooLarge(let text)):
            return .failure(.error(.outOfRange, at: location,
                "\(key.sysctlName) = \(text.shortened) is out of range; it must be \(rangeText)"))
        case .failure(let error):
            let hint = spec.unit == .seconds ? " (whole seconds, or a span such as 30s, 30min, 1h 30min)" : " (a whole number)"
            return .failure(.error(.notANumber, at: location, "\(key.sysctlName): \(error.explanation)\(hint)"))
        case .success(let value) where !spec.range.contains(value):
            return .failure(.error(.outOfRange, at: location,
                "\(key.sysctlName) = \(text.shortened) is out of range; it must be \(rangeText)"))
        case .success(let value):
            return .success(value)
        }
    }

    /// Parses a profile name, refusing anything that could leave a profile directory.
    public static func profileName(_ text: String, key: String, at location: SourceLocation) -> Result<ProfileName, Diagnostic> {
        guard let name = ProfileName(text) else {
            return .failure(.error(.invalidProfileName, at: location,
                "\(key): \(ProfileName.problem(with: text) ?? "invalid profile name")"))
        }
        return .success(name)
    }

    /// The `[sysctl]` rules shared by profiles and the config's local overrides.
    public static func sysctlRules<Document>(
        _ keyPath: any WritableKeyPath<Document, [Tunable: Located<Int>]> & Sendable
    ) -> [Schema<Document>.Rule] {
        Tunable.allCases.map { tunable in
            Schema<Document>.Rule(section: "sysctl", key: tunable.sysctlName,
                                  matches: { Tunable(sysctlKey: $0) == tunable }) { document, text, location in
                switch tunable.parse(text, at: location) {
                case .success(let value):
                    document[keyPath: keyPath][tunable] = Located(value, at: location)
                    return nil
                case .failure(let diagnostic):
                    return diagnostic
                }
            }
        }
    }
}

extension Tunable {
    /// Parses a value for this key; see ``ValueParser/tunable(_:_:at:)``.
    public func parse(_ text: String, at location: SourceLocation) -> Result<Int, Diagnostic> {
        ValueParser.tunable(self, text, at: location)
    }
}

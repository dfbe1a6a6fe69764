/// One profile file as written: its description, optional include and the values it sets
/// itself. Resolving the include chain turns documents into a ``ResolvedProfile``.
public struct ProfileDocument: Sendable, Hashable {
    /// The profile's name, taken from its file name.
    public let name: ProfileName
    /// The file it was read from.
    public let path: String
    /// `description =`, if the file sets it.
    public var description: Located<String>?
    /// `include =`, if the file sets it.
    public var include: Located<ProfileName>?
    /// The values this file sets itself, each with the line that set it.
    public var settings: [Tunable: Located<Int>] = [:]

    /// Creates an empty document for `name`, read from `path`.
    public init(name: ProfileName, path: String) {
        self.name = name
        self.path = path
    }

    /// The keys a profile file may hold.
    public static let schema = Schema<ProfileDocument>(kind: "profile", rules: [
        .init(section: "profile", key: "description") { document, text, location in
            document.description = Located(text, at: location)
            return nil
        },
        .init(section: "profile", key: "include") { document, text, location in
            switch ValueParser.profileName(text, key: "include", at: location) {
            case .success(let name): document.include = Located(name, at: location); return nil
            case .failure(let diagnostic): return diagnostic
            }
        },
    ] + ValueParser.sysctlRules(\ProfileDocument.settings))

    /// Parses `source` as the profile `name`.
    ///
    /// - Returns: the document (meaningful only if there are no errors) and every diagnostic.
    public static func parse(_ source: SourceText, name: ProfileName) -> (ProfileDocument, [Diagnostic]) {
        var document = ProfileDocument(name: name, path: source.path)
        let diagnostics = schema.read(source, into: &document)
        return (document, diagnostics)
    }
}

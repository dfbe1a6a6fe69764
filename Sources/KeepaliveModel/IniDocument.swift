/// The INI syntax shared by config and profile files: `[section]` headers, `key = value`
/// entries, `#` and `;` comments, whitespace trimmed.
///
/// A comment runs from `#` or `;` at the start of a line, or from `#` or `;` that follows
/// a blank inside a line, to the end of the line.
public struct IniDocument: Sendable {
    /// One meaningful line of the file.
    public enum Item: Sendable, Hashable {
        /// A `[name]` header; `name` is `nil` after a broken header, so that the keys
        /// below it are not blamed on the section before.
        case section(name: String?, line: Int)
        case entry(key: String, value: String, line: Int)
    }

    /// The file's items in order; syntax errors leave their line out.
    public let items: [Item]
    /// Syntax errors and file-level errors found while reading.
    public let diagnostics: [Diagnostic]

    /// Reads `source`; a file-level error (too large, NUL, not UTF-8) yields no items.
    public init(_ source: SourceText) {
        switch source.lines() {
        case .failure(let diagnostic):
            items = []
            diagnostics = [diagnostic]
        case .success(let lines):
            var items: [Item] = []
            var diagnostics: [Diagnostic] = []
            for line in lines {
                switch IniDocument.parse(line, in: source) {
                case .success(let item?): items.append(item)
                case .success(nil): break
                case .failure(let diagnostic):
                    diagnostics.append(diagnostic)
                    if diagnostic.code == .brokenSection { items.append(.section(name: nil, line: line.number)) }
                }
            }
            self.items = items
            self.diagnostics = diagnostics
        }
    }

    /// Parses one line into an item, nothing (blank or comment) or a syntax error.
    static func parse(_ line: SourceLine, in source: SourceText) -> Result<Item?, Diagnostic> {
        let text = stripComment(line.text).trimmed
        let location = source.location(line.number)
        if text.isEmpty { return .success(nil) }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count >= 2 else {
                return .failure(.error(.brokenSection, at: location,
                    "section header '\(text.shortened)' is not closed with ']'"))
            }
            let name = String(text.dropFirst().dropLast()).trimmed
            guard !name.isEmpty, !name.contains("["), !name.contains("]") else {
                return .failure(.error(.brokenSection, at: location,
                    "section header '\(text.shortened)' is malformed; write it as [name]"))
            }
            return .success(.section(name: name, line: line.number))
        }
        guard let equals = text.firstIndex(of: "=") else {
            return .failure(.error(.missingEquals, at: location,
                "'\(text.shortened)' is not a 'key = value' line: there is no '='"))
        }
        let key = String(text[..<equals]).trimmed
        let value = String(text[text.index(after: equals)...]).trimmed
        guard !key.isEmpty else {
            return .failure(.error(.emptyKey, at: location, "'\(text.shortened)' has no key before '='"))
        }
        return .success(.entry(key: key, value: value, line: line.number))
    }

    /// Drops a comment: a line starting with `#` or `;`, or `#`/`;` after a blank.
    static func stripComment(_ text: String) -> Substring {
        var previous: UInt8 = 0x20
        for index in text.utf8.indices {
            let byte = text.utf8[index]
            if (byte == UInt8(ascii: "#") || byte == UInt8(ascii: ";")) && ASCII.isSpace(previous) {
                return text[..<index]
            }
            previous = byte
        }
        return text[...]
    }
}

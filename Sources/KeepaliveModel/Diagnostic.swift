/// Where a value or a problem comes from: a file and, when known, a line in it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path as it was opened (built-ins use `<built-in>/NAME.conf`).
    public let file: String
    /// The 1-based line, or `nil` for a problem with the whole file (unreadable, a directory).
    public let line: Int?

    public init(file: String, line: Int?) {
        self.file = file
        self.line = line
    }

    /// `file:line`, or just `file` when there is no line.
    public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// A value together with the place that set it (its provenance).
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public let value: Value
    public let location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// One finding about a config or profile file: an error that stops it being used, or a
/// warning that does not.
///
/// Tests compare ``code`` and ``location``; ``message`` is the sentence for people.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// How serious the finding is.
    public enum Severity: String, Sendable, Hashable { case error, warning }

    /// The class of problem, stable for tests and for `journalctl` filters.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        // File level
        case unreadable = "unreadable"
        case notARegularFile = "not-a-regular-file"
        case configRemoved = "config-removed"
        case configEmpty = "config-empty"
        case fileTooLarge = "file-too-large"
        case notUTF8 = "not-utf8"
        case nulByte = "nul-byte"
        case insecurePermissions = "insecure-permissions"
        case unsafeSymlink = "unsafe-symlink"
        case danglingSymlink = "dangling-symlink"
        // Syntax
        case brokenSection = "broken-section"
        case missingEquals = "missing-equals"
        case emptyKey = "empty-key"
        case keyOutsideSection = "key-outside-section"
        case unknownSection = "unknown-section"
        case unknownKey = "unknown-key"
        case duplicateKey = "duplicate-key"
        // Values
        case emptyValue = "empty-value"
        case notANumber = "not-a-number"
        case outOfRange = "out-of-range"
        case invalidChoice = "invalid-choice"
        case invalidProfileName = "invalid-profile-name"
        // Profiles
        case unknownProfile = "unknown-profile"
        case missingInclude = "missing-include"
        case includeCycle = "include-cycle"
        case includeTooDeep = "include-too-deep"
        case incompleteProfile = "incomplete-profile"
        // Other tools' files
        case sysctlConflict = "sysctl-conflict"
    }

    public let severity: Severity
    public let code: Code
    public let location: SourceLocation
    /// What is wrong, as a sentence a sysadmin can act on.
    public let message: String

    public init(_ severity: Severity, _ code: Code, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.code = code
        self.location = location
        self.message = message
    }

    /// Shorthand for an error.
    public static func error(_ code: Code, at location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(.error, code, at: location, message)
    }

    /// Shorthand for a warning.
    public static func warning(_ code: Code, at location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(.warning, code, at: location, message)
    }

    /// `FILE:LINE: error: message [class]`, the form compilers and editors understand.
    public var description: String { "\(location): \(severity.rawValue): \(message) [\(code.rawValue)]" }
}

extension Array where Element == Diagnostic {
    /// Whether any finding is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
    /// Only the errors.
    public var errors: [Diagnostic] { filter { $0.severity == .error } }
}

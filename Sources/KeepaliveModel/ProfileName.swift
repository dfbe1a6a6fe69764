/// A profile's name: `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`.
///
/// The type cannot hold `/`, a leading `.` or `..`-only names, so a name can never lead
/// a file lookup out of its profile directory. Raw strings are checked here, at the edge.
public struct ProfileName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The validated name.
    public let rawValue: String

    /// The longest name accepted, in characters.
    public static let maximumLength = 64

    /// Validates a name; `nil` if it breaks the pattern.
    public init?(_ text: String) {
        guard ProfileName.problem(with: text) == nil else { return nil }
        rawValue = text
    }

    /// Why `text` is not a valid profile name, or `nil` if it is one.
    public static func problem(with text: String) -> String? {
        let shown = text.count > 40 ? "\(text.prefix(40))…" : text
        guard let first = text.unicodeScalars.first else { return "a profile name cannot be empty" }
        if text.unicodeScalars.count > maximumLength {
            return "profile name '\(shown)' is \(text.unicodeScalars.count) characters long; the limit is \(maximumLength)"
        }
        guard isAlphanumeric(first) else {
            return "profile name '\(shown)' must start with a letter or digit"
        }
        guard text.unicodeScalars.allSatisfy({ isAlphanumeric($0) || "_.-".unicodeScalars.contains($0) }) else {
            return "profile name '\(shown)' may contain only letters, digits, '_', '.' and '-'"
        }
        return nil
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// The file name a profile of this name has in a profile directory: `NAME.conf`.
    public var fileName: String { "\(rawValue).conf" }

    public var description: String { rawValue }

    public static func < (lhs: ProfileName, rhs: ProfileName) -> Bool { lhs.rawValue < rhs.rawValue }
}

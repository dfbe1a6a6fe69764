/// Units as `[connections] enable-keepalive` and `connections --unit` name them: a glob over
/// the system manager's unit names (`legacy-app.service`, `worker@*.service`, or written
/// `unit:GLOB`), or a user's units as `user-unit:UID/GLOB` (`user-unit:1000/legacy-app.service`;
/// `*` for the UID means any user's).
///
/// The two never meet: a plain glob matches only the system manager's units
/// (``UnitIdentity/system``), so no user can make a unit of its own that a plain glob selects.
/// A user's manager `user@UID.service` is a system unit, and selects all of that user's units.
public enum UnitSelector: Sendable, Hashable, CustomStringConvertible {
    /// A glob over the system manager's unit names.
    case system(Glob)
    /// A glob over `UID/NAME` of users' units.
    case user(Glob)

    public var description: String {
        switch self {
        case .system(let glob): glob.pattern
        case .user(let glob): UnitIdentity.userPrefix + glob.pattern
        }
    }

    /// Whether a process or socket of `unit` is selected; never one without a unit.
    public func matches(_ unit: UnitIdentity?) -> Bool {
        guard let unit else { return false }
        switch self {
        case .system(let glob): return glob.matches(unit.system)
        case .user(let glob): return unit.user.map { glob.matches($0.qualified) } ?? false
        }
    }

    /// Why a selector's text is not one.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Parses one word: `GLOB` or `unit:GLOB` (a system unit), `user-unit:UID/GLOB`.
    public static func parse(_ word: String) -> Result<UnitSelector, Problem> {
        if word.hasPrefix(UnitIdentity.userPrefix) {
            let pattern = String(word.dropFirst(UnitIdentity.userPrefix.count))
            if let problem = problem(userPattern: pattern) { return .failure(Problem("\(word.shortened): \(problem)")) }
            return .success(.user(Glob(pattern)!))
        }
        let pattern = word.hasPrefix("unit:") ? String(word.dropFirst("unit:".count)) : word
        if let problem = problem(systemPattern: pattern) { return .failure(Problem("\(word.shortened): \(problem)")) }
        return .success(.system(Glob(pattern)!))
    }

    /// Parses a space-separated list; the first problem found, if any.
    public static func parseList(_ text: String) -> Result<[UnitSelector], Problem> { parseWords(text, parse) }

    /// What is wrong with a glob over system unit names, or `nil`. A unit name never holds a
    /// `/`, so one with a `/` was meant for a user's unit.
    public static func problem(systemPattern pattern: String) -> String? {
        if let problem = Glob.problem(in: pattern) { return "not a unit glob: \(problem)" }
        if pattern.contains("/") {
            return "a unit name has no '/'; a user's unit is written user-unit:UID/UNIT, such as user-unit:1000/legacy-app.service"
        }
        return nil
    }

    /// What is wrong with `UID/GLOB` of a user's unit, or `nil`: the UID is a number, or `*`
    /// for any user's; the glob is over the unit's name.
    public static func problem(userPattern pattern: String) -> String? {
        let parts = pattern.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let form = "write user-unit:UID/UNIT, such as user-unit:1000/legacy-app.service (UID a number, or * for any user's)"
        guard parts.count == 2 else { return "no '/' between the user and the unit; \(form)" }
        let uid = parts[0], name = String(parts[1])
        guard uid == "*" || (!uid.isEmpty && uid.utf8.allSatisfy(ASCII.isDigit) && UInt32(uid) != nil) else {
            return "'\(String(uid).shortened)' is not a UID; \(form)"
        }
        if name.isEmpty { return "no unit after the '/'; \(form)" }
        if name.contains("/") { return "a unit name has no '/'; \(form)" }
        if let problem = Glob.problem(in: name) { return "not a unit glob: \(problem)" }
        return nil
    }
}

/// Each space-separated word of `text`, parsed; the first problem found, if any.
func parseWords<Value, Problem: Error>(_ text: String, _ parse: (String) -> Result<Value, Problem>) -> Result<[Value], Problem> {
    var values: [Value] = []
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        switch parse(String(word)) {
        case .success(let value): values.append(value)
        case .failure(let problem): return .failure(problem)
        }
    }
    return .success(values)
}

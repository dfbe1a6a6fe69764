/// The parts of sysctl.conf(5) / sysctl.d(5) files that touch the three keepalive keys.
///
/// keepalived-tune never applies these files; it reads them to warn where they disagree
/// with the profile, since `sysctl --system` or a restart of systemd-sysctl would
/// overwrite the profile with them.
public enum SysctlConf {
    /// One `key = value` line for a keepalive key.
    public struct Assignment: Sendable, Hashable {
        public let key: Tunable
        /// The value as written (sysctl.d passes it to the kernel as text).
        public let value: String
        public let location: SourceLocation
    }

    /// A keepalive key whose last assignment in the sysctl.d files differs from the policy.
    public struct Conflict: Sendable, Hashable {
        public let assignment: Assignment
        public let expected: Int
    }

    /// The keepalive assignments in one file, in order. Other keys, comments and lines
    /// that are not assignments are skipped; a leading `-` (ignore errors) is allowed.
    public static func assignments(in source: SourceText) -> [Assignment] {
        guard case .success(let lines) = source.lines() else { return [] }
        return lines.compactMap { line in
            let text = line.text.trimmed
            guard !text.hasPrefix("#"), !text.hasPrefix(";"), let equals = text.firstIndex(of: "=") else { return nil }
            var key = String(text[..<equals]).trimmed
            if key.hasPrefix("-") { key.removeFirst() }
            guard let tunable = Tunable(sysctlKey: key) else { return nil }
            return Assignment(key: tunable, value: String(text[text.index(after: equals)...]).trimmed,
                              location: source.location(line.number))
        }
    }

    /// The keys whose effective (last) assignment across `files`, in the order they are
    /// applied, differs from `expected`.
    public static func conflicts(files: [SourceText], expected: KeepaliveValues) -> [Conflict] {
        var last: [Tunable: Assignment] = [:]
        for file in files {
            for assignment in assignments(in: file) { last[assignment.key] = assignment }
        }
        return Tunable.allCases.compactMap { key in
            guard let assignment = last[key], Int(assignment.value) != expected[key] else { return nil }
            return Conflict(assignment: assignment, expected: expected[key])
        }
    }
}

extension SysctlConf.Conflict {
    /// The conflict as a warning diagnostic, for `check` and `status`.
    public var diagnostic: Diagnostic {
        .warning(.sysctlConflict, at: assignment.location, explanation)
    }

    /// A sentence for logs, naming the file, line, both values and the risk.
    public var message: String { "\(assignment.location): \(explanation)" }

    /// What is wrong and what to do, without the location.
    public var explanation: String {
        "\(assignment.key.sysctlName) = \(assignment.value) disagrees with the profile's \(expected); `sysctl --system` or a restart of systemd-sysctl would overwrite the profile until keepalived-tune corrects it. Remove the line or set it to \(expected)"
    }
}

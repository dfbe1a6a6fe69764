/// Shell-style globs as systemd and fnmatch(3) read them, for unit names and other selectors:
/// `*` any run of characters, `?` one character, `[abc]`/`[a-z]`/`[!a]` one of a set.
/// Pure, so that selectors are checked at config time and tested without a system.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let characters: [Character]

    /// `nil` when the pattern is malformed (an unclosed `[`); ``problem(in:)`` says why.
    public init?(_ pattern: String) {
        guard Glob.problem(in: pattern) == nil else { return nil }
        self.pattern = pattern
        characters = Array(pattern)
    }

    public var description: String { pattern }

    /// Why `pattern` is not a glob, or `nil` if it is one.
    public static func problem(in pattern: String) -> String? {
        if pattern.isEmpty { return "an empty pattern" }
        var index = pattern.startIndex
        while index < pattern.endIndex {
            if pattern[index] == "[" {
                guard let close = Glob.closingBracket(Array(pattern[index...]), from: 0) else { return "'[' is never closed" }
                index = pattern.index(index, offsetBy: close + 1)
            } else {
                index = pattern.index(after: index)
            }
        }
        return nil
    }

    /// Whether the whole of `text` matches.
    public func matches(_ text: String) -> Bool {
        let subject = Array(text)
        // Iterative matching with one backtrack point for the last `*`: linear in practice.
        var p = 0, s = 0, starP = -1, starS = 0
        while s < subject.count {
            if p < characters.count, characters[p] == "*" {
                starP = p; starS = s; p += 1
            } else if p < characters.count, let width = matchOne(at: p, subject[s]) {
                p += width; s += 1
            } else if starP >= 0 {
                p = starP + 1; starS += 1; s = starS
            } else {
                return false
            }
        }
        while p < characters.count, characters[p] == "*" { p += 1 }
        return p == characters.count
    }

    /// How many pattern characters match `character` at `p` (1, or a whole `[...]`), or nil.
    private func matchOne(at p: Int, _ character: Character) -> Int? {
        switch characters[p] {
        case "?": return 1
        case "[":
            guard let close = Glob.closingBracket(characters, from: p) else { return nil }
            var index = p + 1
            let negated = characters[index] == "!" || characters[index] == "^"
            if negated { index += 1 }
            var found = false
            while index < close {
                if index + 2 < close, characters[index + 1] == "-" {
                    if characters[index] <= character && character <= characters[index + 2] { found = true }
                    index += 3
                } else {
                    if characters[index] == character { found = true }
                    index += 1
                }
            }
            return found != negated ? close - p + 1 : nil
        case let literal: return literal == character ? 1 : nil
        }
    }

    /// The index of the `]` that closes the set opening at `open` (a `]` first in the set is
    /// a member), or nil.
    private static func closingBracket(_ characters: [Character], from open: Int) -> Int? {
        var index = open + 1
        if index < characters.count, characters[index] == "!" || characters[index] == "^" { index += 1 }
        if index < characters.count, characters[index] == "]" { index += 1 }
        while index < characters.count {
            if characters[index] == "]" { return index }
            index += 1
        }
        return nil
    }
}

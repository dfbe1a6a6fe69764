/// The raw contents of one config or profile file, as read from disk or compiled in.
public struct SourceText: Sendable, Hashable {
    /// The largest file accepted: 64 KiB. Anything bigger is a mistake, not a config.
    public static let maximumSize = 64 * 1024

    /// The path the file was read from, used in every diagnostic about it.
    public let path: String
    /// The bytes read; at most ``maximumSize`` + 1 of them, enough to tell a file is too large.
    public let bytes: [UInt8]
    /// The file's full size, which may be larger than `bytes.count`.
    public let totalSize: Int

    public init(path: String, bytes: [UInt8], totalSize: Int? = nil) {
        self.path = path
        self.bytes = bytes
        self.totalSize = totalSize ?? bytes.count
    }

    /// Convenience for text built in memory (tests, built-ins).
    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// Splits the file into numbered lines, refusing files that are too large, contain NUL
    /// bytes or are not UTF-8.
    ///
    /// A leading UTF-8 byte-order mark and CR before LF are accepted and dropped, since
    /// editors on other systems write them.
    public func lines() -> Result<[SourceLine], Diagnostic> {
        if totalSize > SourceText.maximumSize {
            let crossing = bytes.prefix(SourceText.maximumSize).lazy.filter { $0 == 0x0A }.count + 1
            return .failure(.error(.fileTooLarge, at: location(crossing),
                "file is \(totalSize) bytes, over the \(SourceText.maximumSize / 1024) KiB limit (reached at this line); nothing in it is used"))
        }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var result: [SourceLine] = []
        for (index, var raw) in body.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if raw.last == 0x0D { raw = raw.dropLast() }
            if raw.contains(0) {
                return .failure(.error(.nulByte, at: location(number),
                    "line contains a NUL byte; this is a binary file, not a config, and nothing in it is used"))
            }
            guard let text = String(validating: raw, as: UTF8.self) else {
                return .failure(.error(.notUTF8, at: location(number),
                    "line is not valid UTF-8; save the file as UTF-8. Nothing in it is used"))
            }
            result.append(SourceLine(number: number, text: text))
        }
        return .success(result)
    }

    /// A location in this file.
    public func location(_ line: Int?) -> SourceLocation { SourceLocation(file: path, line: line) }
}

/// One line of a file, with its 1-based number.
public struct SourceLine: Sendable, Hashable {
    public let number: Int
    public let text: String
}

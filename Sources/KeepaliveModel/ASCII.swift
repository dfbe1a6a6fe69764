/// Byte-level helpers for the ASCII syntax of config and profile files.
///
/// Keys, section names, units and booleans are ASCII, so they are read as UTF-8 bytes.
/// `Character.isWhitespace`, `isLetter` and `lowercased()` would pull the standard
/// library's Unicode tables into the daemon's memory (about 2 MB of pages) for no gain;
/// values with non-ASCII text are still kept intact and reported verbatim.
public enum ASCII {
    /// Space, tab, LF, VT, FF or CR.
    @inlinable public static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
    /// `0`-`9`.
    @inlinable public static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    /// `A`-`Z` or `a`-`z`.
    @inlinable public static func isLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte | 0x20) }
    /// The byte with `A`-`Z` mapped to `a`-`z`.
    @inlinable public static func lowered(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
}

extension StringProtocol {
    /// The text without leading and trailing ASCII whitespace.
    public var trimmed: String {
        let bytes = Substring(self).utf8
        guard let first = bytes.firstIndex(where: { !ASCII.isSpace($0) }),
              let last = bytes.lastIndex(where: { !ASCII.isSpace($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// The text with ASCII letters in lower case; other characters unchanged.
    public var asciiLowercased: String { String(decoding: utf8.map(ASCII.lowered), as: UTF8.self) }

    /// The text with each backslash escape `\` + `introducer` + `digits` digits in `radix`
    /// replaced by the byte it names: systemd's unit names (`\x2d`, introducer `x`, two hex
    /// digits) and mountinfo's paths (`\040`, no introducer, three octal digits). Anything
    /// else is kept as it is.
    public func decodingEscapes(introducer: String = "", digits: Int, radix: Int) -> String {
        guard contains("\\") else { return String(self) }
        let utf8 = Array(self.utf8), marker = Array(introducer.utf8)
        var bytes: [UInt8] = []
        var index = 0
        let width = 1 + marker.count + digits
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + width <= utf8.count,
               Array(utf8[(index + 1)..<(index + 1 + marker.count)]) == marker,
               let byte = UInt8(String(decoding: utf8[(index + 1 + marker.count)..<(index + width)], as: UTF8.self), radix: radix) {
                bytes.append(byte)
                index += width
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// At most 60 characters, for quoting user text in a message.
    var shortened: String { count > 60 ? "\(prefix(60))…" : String(self) }
}

import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Sends structured entries to journald with `sd_journal_sendv(3)`.
///
/// Field names are normalised to `[A-Z0-9_]` with no leading `_` or digit, because
/// journald silently drops fields with other names.
public struct Journal: Sendable {
    public init() {}

    /// Sends one entry; returns 0 on success (also when no journal socket exists) or -errno.
    @discardableResult
    public func send(_ fields: [(name: String, value: String)]) -> Int32 {
        // One buffer holds every "NAME=value" field; the iovecs point into it.
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = buffer.count
            buffer += Journal.fieldName(field.name).utf8
            buffer.append(UInt8(ascii: "="))
            buffer += field.value.utf8
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { raw -> Int32 in
            var vectors = ranges.map { range in
                iovec(iov_base: raw.baseAddress! + range.lowerBound, iov_len: range.count)
            }
            return vectors.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }

    /// Makes a valid journal field name: upper case, `[A-Z0-9_]`, not starting with `_` or
    /// a digit: `code-file` → `CODE_FILE`, `_x` → `X`, `1x` → `X1X`.
    public static func fieldName(_ name: String) -> String {
        // Bytes, not Characters: upper-casing through the Unicode tables would cost the
        // daemon memory for names that are ASCII anyway.
        var bytes = name.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - 0x20
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): byte
            default: UInt8(ascii: "_")
            }
        }
        while bytes.first == UInt8(ascii: "_") { bytes.removeFirst() }
        if let first = bytes.first, first <= UInt8(ascii: "9") { bytes.insert(UInt8(ascii: "X"), at: 0) }
        return bytes.isEmpty ? "FIELD" : String(decoding: bytes.prefix(64), as: UTF8.self)
    }

    /// Whether journald is reachable: the native socket exists.
    public static var socketExists: Bool {
        var info = stat()
        return stat("/run/systemd/journal/socket", &info) == 0
    }
}

/// A JSON document, written and read by hand: the command line's `--json` output and the
/// container runtimes' files (``JSONValue/parse(_:)``) need no more than this, and leaving
/// Foundation out keeps the binary, and so the daemon's memory, small.
public enum JSONValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Keys are written sorted; a `nil` value leaves its key out.
    case object([String: JSONValue?])

    /// The value pretty-printed with two-space indents and sorted keys.
    public var text: String {
        var out = ""
        write(to: &out, indent: "")
        return out
    }

    private func write(to out: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .string(let text): JSONValue.quote(text, to: &out)
        case .int(let number): out += String(number)
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += inner
                item.write(to: &out, indent: inner)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members):
            let present = members.compactMap { key, value in value.map { (key, $0) } }.sorted { $0.0 < $1.0 }
            if present.isEmpty { out += "{}"; return }
            out += "{\n"
            for (index, (key, value)) in present.enumerated() {
                out += inner
                JSONValue.quote(key, to: &out)
                out += " : "
                value.write(to: &out, indent: inner)
                out += index == present.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }

    /// Writes `text` as a JSON string: `"` and `\` escaped, control characters as escapes.
    private static func quote(_ text: String, to out: inout String) {
        out += "\""
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += text   // nothing to escape: the common case, 100,000 times in a connections report
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension Optional where Wrapped == Int {
    /// The number, or `nil` (key left out).
    public var json: JSONValue? { map(JSONValue.int) }
    /// The number, or JSON `null` (key kept).
    public var jsonOrNull: JSONValue { map(JSONValue.int) ?? .null }
}

extension Optional where Wrapped == String {
    /// The text, or JSON `null` (key kept).
    public var jsonOrNull: JSONValue { map(JSONValue.string) ?? .null }
}

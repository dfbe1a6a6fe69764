/// Parsing and formatting of whole-second time spans in systemd's style (`30s`, `30min`,
/// `2h`, `1h 30min`); a bare number is seconds.
public enum TimeSpan {
    /// The units accepted after a number, with their length in seconds.
    static let units: [(names: [String], seconds: Int)] = [
        (["s", "sec", "secs", "second", "seconds"], 1),
        (["m", "min", "mins", "minute", "minutes"], 60),
        (["h", "hr", "hrs", "hour", "hours"], 3600),
        (["d", "day", "days"], 86400),
        (["w", "week", "weeks"], 604_800),
    ]

    /// Units that systemd accepts but that cannot express a keepalive value.
    static let subSecondUnits: Set<String> = ["ms", "msec", "us", "usec", "µs", "ns", "nsec"]

    /// Parses a span into whole seconds.
    ///
    /// Accepts a bare decimal integer (seconds) or one or more `<integer><unit>` parts,
    /// optionally separated by blanks. Signs, fractions, hex and sub-second units are refused.
    public static func parseSeconds(_ text: String) -> Result<Int, ValueSyntaxError> {
        if text.isEmpty { return .failure(.empty) }
        if let whole = parseDecimal(text) { return whole }
        guard let first = text.utf8.first, ASCII.isDigit(first), !isHex(text) else {
            return .failure(diagnoseNonInteger(text))
        }
        var total = 0
        var rest = text.utf8[...]
        while !rest.isEmpty {
            let digits = rest.prefix(while: ASCII.isDigit)
            guard !digits.isEmpty else { return .failure(.notANumber(text)) }
            rest = rest.dropFirst(digits.count).drop(while: isBlank)
            // A unit is letters; non-ASCII bytes are taken too so that `µs` is recognised
            // and `5é` is reported as an unknown unit.
            let unit = rest.prefix(while: { ASCII.isLetter($0) || $0 >= 0x80 })
            rest = rest.dropFirst(unit.count).drop(while: isBlank)
            guard !unit.isEmpty else { return .failure(.notANumber(text)) }
            let name = String(decoding: unit.map(ASCII.lowered), as: UTF8.self)
            if subSecondUnits.contains(name) { return .failure(.subSecond(text)) }
            guard let multiplier = units.first(where: { $0.names.contains(name) })?.seconds else {
                return .failure(.unknownUnit(String(decoding: unit, as: UTF8.self), in: text))
            }
            guard let count = Int(String(decoding: digits, as: UTF8.self)) else { return .failure(.tooLarge(text)) }
            let (part, overflow1) = count.multipliedReportingOverflow(by: multiplier)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            if overflow1 || overflow2 { return .failure(.tooLarge(text)) }
            total = sum
        }
        return .success(total)
    }

    /// Parses a plain decimal integer: digits only, no sign, no blanks, no hex.
    public static func parseInteger(_ text: String) -> Result<Int, ValueSyntaxError> {
        if text.isEmpty { return .failure(.empty) }
        return parseDecimal(text) ?? .failure(diagnoseNonInteger(text))
    }

    /// `nil` if `text` is not all ASCII digits; otherwise its value or `.tooLarge`.
    private static func parseDecimal(_ text: String) -> Result<Int, ValueSyntaxError>? {
        guard text.utf8.allSatisfy(ASCII.isDigit) else { return nil }
        guard let value = Int(text) else { return .failure(.tooLarge(text)) }
        return .success(value)
    }

    /// Says why something that should be a count is not one.
    private static func diagnoseNonInteger(_ text: String) -> ValueSyntaxError {
        if let first = text.first, first == "+" || first == "-" { return .signed(text) }
        if isHex(text) { return .hex(text) }
        return .notANumber(text)
    }

    /// Whether `text` starts with `0x` or `0X`.
    private static func isHex(_ text: String) -> Bool { text.utf8.starts(with: "0x".utf8) || text.utf8.starts(with: "0X".utf8) }

    /// A blank between a number and its unit, or between parts.
    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// Formats seconds as a span: `31min 30s`, `2h 11min 15s`, `0s`.
    public static func format(seconds: Int) -> String {
        if seconds <= 0 { return "\(seconds)s" }
        var rest = seconds
        var parts: [String] = []
        for (name, size) in [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)] where rest >= size {
            parts.append("\(rest / size)\(name)")
            rest %= size
        }
        return parts.joined(separator: " ")
    }

    /// Formats a value for people: `1800 (30min)` for seconds, the plain number for counts.
    public static func describe(_ value: Int, unit: TunableSpec.Unit) -> String {
        unit == .seconds ? "\(value) (\(format(seconds: value)))" : "\(value)"
    }
}

/// Why a value could not be read as a number or a time span.
public enum ValueSyntaxError: Error, Hashable, Sendable {
    case empty
    case notANumber(String)
    case signed(String)
    case hex(String)
    case tooLarge(String)
    case unknownUnit(String, in: String)
    case subSecond(String)

    /// A sentence fragment saying what is wrong, for diagnostics.
    public var explanation: String {
        switch self {
        case .empty: "the value is empty"
        case .notANumber(let text): "'\(text)' is not a number"
        case .signed(let text): "'\(text)' has a sign; write the number without '+' or '-'"
        case .hex(let text): "'\(text)' is hexadecimal; write a decimal number"
        case .tooLarge(let text): "'\(text)' is far too large"
        case .unknownUnit(let unit, let text):
            "'\(text)' has an unknown unit '\(unit)' (use s, min, h or d, e.g. 30min or 1h 30min)"
        case .subSecond(let text): "'\(text)' is below a second; keepalive values are whole seconds"
        }
    }
}

import KeepaliveModel
import Testing

@Suite("Time spans and numbers")
struct TimeSpanTests {
    @Test("accepted spans", arguments: [
        ("30", 30), ("30s", 30), ("30 s", 30), ("30sec", 30), ("30min", 1800), ("2h", 7200),
        ("1h 30min", 5400), ("1h30min", 5400), ("1d", 86400), ("1w", 604_800),
        ("2 hours", 7200), ("0", 0), ("0030", 30), ("1H 1M 1S", 3661),
    ])
    func accepted(text: String, seconds: Int) {
        #expect(TimeSpan.parseSeconds(text) == .success(seconds))
    }

    @Test("refused spans", arguments: [
        ("", ValueSyntaxError.empty),
        ("+5", .signed("+5")),
        ("-5", .signed("-5")),
        ("0x10", .hex("0x10")),
        ("1.5h", .notANumber("1.5h")),
        ("1 800", .notANumber("1 800")),
        ("10 parsecs", .unknownUnit("parsecs", in: "10 parsecs")),
        ("500ms", .subSecond("500ms")),
        ("99999999999999999999", .tooLarge("99999999999999999999")),
        ("9223372036854775807w", .tooLarge("9223372036854775807w")),
        ("abc", .notANumber("abc")),
    ])
    func refused(text: String, error: ValueSyntaxError) {
        #expect(TimeSpan.parseSeconds(text) == .failure(error))
    }

    @Test("plain counts refuse units, signs, hex and blanks", arguments: [
        ("3", ValueSyntaxError?.none), ("3s", .notANumber("3s")), ("+3", .signed("+3")),
        ("0x3", .hex("0x3")), ("3 3", .notANumber("3 3")), ("", .empty),
        ("9223372036854775808", .tooLarge("9223372036854775808")),
    ])
    func integers(text: String, error: ValueSyntaxError?) {
        let result = TimeSpan.parseInteger(text)
        if let error { #expect(result == .failure(error)) } else { #expect(result == .success(3)) }
    }

    @Test("formatting", arguments: [
        (1890, "31min 30s"), (7875, "2h 11min 15s"), (1800, "30min"), (0, "0s"), (86401, "1d 1s"), (15, "15s"),
    ])
    func format(seconds: Int, text: String) {
        #expect(TimeSpan.format(seconds: seconds) == text)
    }

    @Test func describesSecondsAndCounts() {
        #expect(TimeSpan.describe(1800, unit: .seconds) == "1800 (30min)")
        #expect(TimeSpan.describe(3, unit: .count) == "3")
    }
}

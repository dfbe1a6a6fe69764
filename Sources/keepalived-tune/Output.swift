import KeepaliveModel
import Synchronization
import KeepaliveOS
#if canImport(Glibc)
import Glibc
#endif

/// Writing to the terminal: stdout for results, stderr for diagnostics.
enum Output {
    /// Writes a line to standard error. Once a write fails with EPIPE (nobody reads the
    /// pipe any more: `run 2>&1 | logger` after logger died), nothing more is written; the
    /// daemon ignores SIGPIPE, so that costs it nothing else.
    static func error(_ line: String) {
        guard !stderrClosed.isSet else { return }
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written < 0 && errno == EPIPE { stderrClosed.set() }
    }

    /// Whether stderr's reader went away.
    private static let stderrClosed = Flag()

    /// Prints each diagnostic as `FILE:LINE: severity: message` on standard error.
    static func diagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { error(diagnostic.description) }
    }

    /// Prints diagnostics and a closing line saying what happens next, if there were errors.
    static func rejected(_ diagnostics: [Diagnostic], consequence: String) {
        Output.diagnostics(diagnostics)
        let count = diagnostics.errors.count
        error("keepalived-tune: \(count) error\(count == 1 ? "" : "s"); \(consequence)")
    }

    /// Prints a value as pretty, key-sorted JSON on standard output.
    static func json(_ value: JSONValue) {
        Swift.print(value.text)
    }

    /// Lays rows out in left-aligned columns separated by two spaces. Widths are counted in
    /// UTF-8 bytes: the cells are ASCII but for the odd unit name, and counting characters
    /// would cost more than the rest of a 100,000-row table.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index < widths.count { widths[index] = max(widths[index], cell.utf8.count) }
                else { widths.append(cell.utf8.count) }
            }
        }
        return rows.map { row in
            var line = ""
            line.reserveCapacity(widths.reduce(0, +) + 2 * widths.count)
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 {
                    line += String(repeating: " ", count: widths[index] - cell.utf8.count + 2)
                }
            }
            return line
        }
    }

    /// Prints lines with one write per 64 KiB, not one per line.
    static func print(lines: [String]) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        for line in lines {
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 { flush(&buffer) }
        }
        flush(&buffer)
    }

    /// Prints a table laid out as ``table(_:)`` does, bytes straight to standard output:
    /// for 100,000 rows, no line is ever a String of its own.
    static func print(table rows: [[String]]) {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index < widths.count { widths[index] = max(widths[index], cell.utf8.count) }
                else { widths.append(cell.utf8.count) }
            }
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        for row in rows {
            for (index, cell) in row.enumerated() {
                buffer.append(contentsOf: cell.utf8)
                if index < row.count - 1 {
                    buffer.append(contentsOf: repeatElement(0x20, count: widths[index] - cell.utf8.count + 2))
                }
            }
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 { flush(&buffer) }
        }
        flush(&buffer)
    }

    /// Writes the bytes to standard output (through `print`, so that they stay in order with
    /// everything else printed) and empties the buffer.
    private static func flush(_ buffer: inout [UInt8]) {
        Swift.print(String(decoding: buffer, as: UTF8.self), terminator: "")
        buffer.removeAll(keepingCapacity: true)
    }

    /// `1800 (30min)` for seconds, `3` for a count.
    static func value(_ value: Int, of key: Tunable) -> String {
        TimeSpan.describe(value, unit: key.spec.unit)
    }

    /// The config files that were read, or the main path marked as missing.
    static func configFiles(_ files: [String], main: String) -> String {
        files.isEmpty ? "\(main) (missing: built-in defaults)" : files.joined(separator: ", ")
    }

    /// `1890 s (31min 30s)`.
    static func detection(_ seconds: Int) -> String {
        "\(seconds) s (\(TimeSpan.format(seconds: seconds)))"
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// A flag set once, from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

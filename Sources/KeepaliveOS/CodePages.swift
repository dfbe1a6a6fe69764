#if canImport(Glibc)
import Glibc
#endif

/// Hands back the pages of program code that only start-up and reloads needed.
///
/// Parsing, resolving and logging run once per start or reload, yet the code they ran stays
/// mapped: the kernel maps 64 KiB around every page a process faults in ("fault-around"),
/// and the program's and libraries' code is mapped by no other process, so it all counts
/// as this daemon's private memory (about 5 MB). Dropping the page-table entries of the
/// executable mappings (`madvise(MADV_DONTNEED)` on `r-xp` file mappings) returns them:
/// the pages stay in the page cache, and the few that the idle loop runs fault back in
/// (minor faults, microseconds). Only read-only executable file mappings are touched, whose
/// contents always equal the file's, and nothing is done while a debugger is attached,
/// since its breakpoints are private copies of code pages that would be lost.
public enum CodePages {
    /// Releases the code pages; returns how many mappings were advised.
    @discardableResult
    public static func release() -> Int {
        guard !tracerAttached, let maps = readProcFile("/proc/self/maps") else { return 0 }
        var ranges: [(start: UInt, end: UInt)] = []
        for line in maps.split(separator: UInt8(ascii: "\n")) {
            if let range = executableFileRange(line) { ranges.append(range) }
        }
        // Collect first, advise last: code that runs between two calls would fault back in.
        var advised = 0
        for range in ranges where madvise(UnsafeMutableRawPointer(bitPattern: range.start),
                                          Int(range.end - range.start), MADV_DONTNEED) == 0 {
            advised += 1
        }
        return advised
    }

    /// `start-end r-xp offset dev inode /path`: the range of a read-only executable file
    /// mapping, or `nil` for any other line.
    static func executableFileRange(_ line: ArraySlice<UInt8>) -> (start: UInt, end: UInt)? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[1].elementsEqual("r-xp".utf8), fields[5].first == UInt8(ascii: "/") else {
            return nil
        }
        let bounds = fields[0].split(separator: UInt8(ascii: "-"))
        guard bounds.count == 2, let start = hex(bounds[0]), let end = hex(bounds[1]), start < end else { return nil }
        return (start, end)
    }

    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt? {
        UInt(String(decoding: digits, as: UTF8.self), radix: 16)
    }

    /// Whether a debugger (or strace) is attached: `TracerPid:` in /proc/self/status is not 0.
    static var tracerAttached: Bool {
        guard let status = readProcFile("/proc/self/status") else { return true }
        for line in status.split(separator: UInt8(ascii: "\n")) where line.starts(with: "TracerPid:".utf8) {
            return line.dropFirst(10).contains { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") }
        }
        return true
    }

    /// A whole /proc file (their sizes are not known in advance), or `nil`.
    static func readProcFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }
}

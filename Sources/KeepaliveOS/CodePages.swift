#if canImport(Glibc)
import Glibc
#endif
import CLinux
import KeepaliveModel

/// Hands back the pages of program code and read-only data that only start-up, reloads and
/// corrections needed.
///
/// Parsing, resolving and logging run once per start or reload, yet the code they ran and the
/// constants they read stay mapped: the kernel maps 64 KiB around every page a process faults
/// in ("fault-around"), and the program's pages are mapped by no other process, so they all
/// count as this daemon's private memory (megabytes). Dropping the page-table entries of the
/// read-only file mappings that hold no page of their own (`madvise(MADV_DONTNEED)` on
/// mappings that are file-backed, not writable and have no anonymous pages) returns
/// them: the pages stay in the page cache, and the few that the idle loop uses fault back in
/// (minor faults, microseconds). Such a mapping's contents always equal the file's, so nothing
/// is lost; a mapping with any page of its own (relocated data, a debugger's breakpoint) is
/// left alone.
public final class CodePages {
    /// The candidate mappings (readable, unwritable, file-backed) as /proc/self/maps last
    /// listed them, and those of them found without pages of their own.
    private var candidates: [Range] = []
    private var clean: [Range] = []
    private let syscalls: Syscalls

    /// A mapping's address range.
    struct Range: Equatable {
        let start: UInt
        let end: UInt
    }

    /// Code pages handed back through `syscalls` (madvise, /proc reads).
    public init(syscalls: Syscalls) { self.syscalls = syscalls }

    /// Releases the pages; returns how many mappings were advised.
    ///
    /// Reading /proc/self/smaps walks every page table of the process, so it is read only
    /// when the candidate mappings change (at the first call, in practice): a mapping
    /// without pages of its own stays so, except under a debugger (its breakpoints are
    /// private copies of code pages), when nothing is released at all.
    @discardableResult
    public func release() -> Int {
        guard !tracerAttached, let maps = CodePages.readProcFile("/proc/self/maps", syscalls: syscalls) else { return 0 }
        let listed = maps.split(separator: UInt8(ascii: "\n")).compactMap(CodePages.readOnlyFileRange)
        if listed != candidates {
            guard let smaps = CodePages.readProcFile("/proc/self/smaps", syscalls: syscalls) else { return 0 }
            candidates = listed
            clean = CodePages.cleanReadOnlyFileRanges(smaps).filter(listed.contains)
        }
        // Collected first, advised last: code that runs between two calls would fault back in.
        var advised = 0
        for range in clean where syscalls.adviseDontNeed(range.start, Int(range.end - range.start)) {
            advised += 1
        }
        // The heap that start-up or a reload used and freed goes back too.
        _ = malloc_trim(0)
        return advised
    }

    /// Whether a debugger (or strace) is attached: `TracerPid:` in /proc/self/status is not 0.
    var tracerAttached: Bool {
        guard let status = CodePages.readProcFile("/proc/self/status", syscalls: syscalls) else { return true }
        for line in status.split(separator: UInt8(ascii: "\n")) where line.starts(with: "TracerPid:".utf8) {
            return line.dropFirst(10).contains { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") }
        }
        return true
    }

    /// The mappings in `/proc/PID/smaps` text that are file-backed, readable, not writable,
    /// hold no anonymous page, and share no page with another process (releasing shared
    /// pages would only cost faults).
    ///
    /// A page written in a private file mapping (relocated data, a breakpoint) becomes an
    /// anonymous copy, counted in `Anonymous:`. The `*_Dirty:` fields cannot tell: they also
    /// count the file's own pages while the page cache has not written them back (for
    /// half a minute after the binary is installed).
    static func cleanReadOnlyFileRanges(_ smaps: [UInt8]) -> [Range] {
        var ranges: [Range] = []
        var current: Range?
        var own = 0   // kB of the current mapping's anonymous pages: its own copies
        func finish() {
            if let range = current, own == 0 { ranges.append(range) }
        }
        for line in smaps.split(separator: UInt8(ascii: "\n")) {
            guard let first = line.first else { continue }
            if ASCII.isDigit(first) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(first) {
                finish()   // a new mapping's header: `start-end perms offset dev inode path`
                current = readOnlyFileRange(line)
                own = 0
            } else if current != nil, line.starts(with: "Anonymous:".utf8) {
                own += kilobytes(line)
            } else if current != nil, line.starts(with: "Shared_Clean:".utf8) || line.starts(with: "Shared_Dirty:".utf8),
                      kilobytes(line) > 0 {
                current = nil   // other processes map it too (libc): dropping it frees nothing
            }
        }
        finish()
        return ranges
    }

    /// `start-end r?-p offset dev inode /path`: the range of a readable, not writable file
    /// mapping, or `nil` for any other line.
    static func readOnlyFileRange(_ line: ArraySlice<UInt8>) -> Range? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[1].count == 4, fields[1].first == UInt8(ascii: "r"),
              fields[1].dropFirst().first == UInt8(ascii: "-"), fields[5].first == UInt8(ascii: "/") else {
            return nil
        }
        let bounds = fields[0].split(separator: UInt8(ascii: "-"))
        guard bounds.count == 2, let start = hex(bounds[0]), let end = hex(bounds[1]), start < end else { return nil }
        return Range(start: start, end: end)
    }

    /// The number in `Name:   123 kB`.
    private static func kilobytes(_ line: ArraySlice<UInt8>) -> Int {
        var value = 0
        for byte in line where ASCII.isDigit(byte) { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        return value
    }

    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt? {
        UInt(String(decoding: digits, as: UTF8.self), radix: 16)
    }

    /// A whole /proc file (their sizes are not known in advance), or `nil`.
    static func readProcFile(_ path: String, syscalls: Syscalls) -> [UInt8]? {
        guard case .success(let fd) = syscalls.open(path, O_RDONLY) else { return nil }
        defer { syscalls.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            guard case .success(let count) = chunk.withUnsafeMutableBytes({ syscalls.read(fd, $0) }) else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }
}

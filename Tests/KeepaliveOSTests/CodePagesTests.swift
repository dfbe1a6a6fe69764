import Testing
@testable import KeepaliveOS
import KeepaliveModel

@Suite struct CodePagesTests {
    @Test func onlyReadableUnwritableFileMappingsAreCandidates() {
        func range(_ line: String) -> CodePages.Range? { CodePages.readOnlyFileRange(Array(line.utf8)[...]) }
        let code = range("55d0c8e4e000-55d0c97cd000 r-xp 0022c000 fe:00 16230140   /usr/local/bin/keepalived-tune")
        #expect(code?.start == 0x55d0c8e4e000 && code?.end == 0x55d0c97cd000)
        #expect(range("55d0c8e4e000-55d0c97cd000 r--p 0022c000 fe:00 16230140   /usr/lib/libc.so.6") != nil)
        #expect(range("55d0c8e4e000-55d0c97cd000 rw-p 0022c000 fe:00 16230140   /usr/local/bin/keepalived-tune") == nil)
        #expect(range("55d0c8e4e000-55d0c97cd000 ---p 0022c000 fe:00 16230140   /usr/lib/libc.so.6") == nil)
        #expect(range("7ffd1a3f2000-7ffd1a3f4000 r-xp 00000000 00:00 0                          [vdso]") == nil)
        #expect(range("7ffd1a3f2000-7ffd1a3f4000 r--p 00000000 00:00 0 ") == nil)
        #expect(range("7f00-7e00 r-xp 00000000 fe:00 1 /lib/x.so") == nil)
        #expect(range("") == nil)
    }

    @Test func aMappingWithAnyPageOfItsOwnIsLeftAlone() {
        let smaps = """
            1000-2000 r--p 00000000 fe:00 1 /usr/bin/x
            Rss:                   4 kB
            Private_Clean:         4 kB
            Private_Dirty:         0 kB
            Anonymous:             0 kB
            VmFlags: rd mr mw me
            2000-3000 r--p 00001000 fe:00 1 /usr/bin/x
            Private_Dirty:         4 kB
            Anonymous:             4 kB
            3000-4000 r-xp 00002000 fe:00 1 /usr/bin/x
            Shared_Dirty:          0 kB
            Private_Dirty:         0 kB
            Anonymous:             8 kB
            4000-5000 r-xp 00003000 fe:00 1 /usr/bin/x
            Private_Dirty:         4 kB
            Anonymous:             0 kB
            5000-6000 rw-p 00000000 00:00 0
            Anonymous:             0 kB
            6000-7000 r-xp 00000000 fe:00 2 /usr/lib/libc.so.6
            Shared_Clean:        128 kB
            Private_Dirty:         0 kB
            Anonymous:             0 kB
            """
        let ranges = CodePages.cleanReadOnlyFileRanges(Array(smaps.utf8))
        #expect(ranges.map(\.start) == [0x1000, 0x4000],
                "relocated data and a breakpoint's page are kept, a file page not yet written back is the file's, a shared library's pages are not ours to give back")
    }

    /// The real call on this process: clean read-only pages are dropped and the process keeps
    /// running (what it touches next faults back in from the page cache).
    @Test func releasingShrinksResidentReadOnlyPagesAndTheProcessRunsOn() throws {
        let codePages = CodePages(syscalls: .live)
        let before = try residentReadOnlyKilobytes()
        let advised = codePages.release()
        let after = try residentReadOnlyKilobytes()
        #expect(advised > 0)
        #expect(after < before, "read-only file Rss \(before) kB before, \(after) kB after")
        #expect(TimeSpan.parseSeconds("1h 30min") == .success(5400))
        // Again, from what the first call learnt: the same mappings are released.
        #expect(codePages.release() > 0)
        #expect(try residentReadOnlyKilobytes() <= before)
    }

    /// The Rss of this process's readable, unwritable file mappings, from /proc/self/smaps.
    private func residentReadOnlyKilobytes() throws -> Int {
        let smaps = try #require(CodePages.readProcFile("/proc/self/smaps", syscalls: .live))
        var total = 0, counted = false
        for line in smaps.split(separator: UInt8(ascii: "\n")) {
            // A mapping's header starts with its address range; its fields follow, one a line.
            if let first = line.first, !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
                counted = CodePages.readOnlyFileRange(line) != nil
            } else if counted, line.starts(with: "Rss:".utf8) {
                total += Int(String(decoding: line.dropFirst(4).filter { (0x30...0x39).contains($0) }, as: UTF8.self)) ?? 0
            }
        }
        return total
    }
}

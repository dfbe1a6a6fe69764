import Testing
@testable import KeepaliveOS
import KeepaliveModel

@Suite struct CodePagesTests {
    @Test func onlyReadOnlyExecutableFileMappingsAreChosen() {
        func range(_ line: String) -> (start: UInt, end: UInt)? { CodePages.executableFileRange(Array(line.utf8)[...]) }
        let code = range("55d0c8e4e000-55d0c97cd000 r-xp 0022c000 fe:00 16230140   /usr/local/bin/keepalived-tune")
        #expect(code?.start == 0x55d0c8e4e000 && code?.end == 0x55d0c97cd000)
        #expect(range("55d0c8e4e000-55d0c97cd000 rw-p 0022c000 fe:00 16230140   /usr/local/bin/keepalived-tune") == nil)
        #expect(range("55d0c8e4e000-55d0c97cd000 r--p 0022c000 fe:00 16230140   /usr/lib/libc.so.6") == nil)
        #expect(range("7ffd1a3f2000-7ffd1a3f4000 r-xp 00000000 00:00 0                          [vdso]") == nil)
        #expect(range("7f00-7e00 r-xp 00000000 fe:00 1 /lib/x.so") == nil)
        #expect(range("") == nil)
    }

    /// The real call on this process: code pages are dropped and the process keeps running
    /// (the code it runs next faults back in from the page cache).
    @Test func releasingCodePagesShrinksResidentCodeAndTheProcessRunsOn() throws {
        let before = try residentExecutableKilobytes()
        let advised = CodePages.release()
        let after = try residentExecutableKilobytes()
        #expect(advised > 0)
        #expect(after < before, "r-xp Rss \(before) kB before, \(after) kB after")
        #expect(TimeSpan.parseSeconds("1h 30min") == .success(5400))
    }

    /// The Rss of this process's executable file mappings, from /proc/self/smaps.
    private func residentExecutableKilobytes() throws -> Int {
        let smaps = try #require(CodePages.readProcFile("/proc/self/smaps"))
        var total = 0, inCode = false
        for line in smaps.split(separator: UInt8(ascii: "\n")) {
            // A mapping's header starts with its address range; its fields follow, one a line.
            if let first = line.first, !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
                inCode = CodePages.executableFileRange(line) != nil
            } else if inCode, line.starts(with: "Rss:".utf8) {
                total += Int(String(decoding: line.dropFirst(4).filter { (0x30...0x39).contains($0) }, as: UTF8.self)) ?? 0
            }
        }
        return total
    }
}

import CTestSupport
import Foundation
import KeepaliveTestKit
import Testing

/// The test kit's children get exactly the descriptors they are given (issue 25): a
/// descriptor this process holds, close-on-exec or not, never reaches them.
@Suite("Descriptor hygiene (test kit)")
struct DescriptorHygieneTests {
    /// The descriptors a shell started by the test kit holds, as it lists them itself.
    private func descriptorsOfAChild() throws -> [String] {
        let result = try ChildProcess.run(["sh", "-c", "cd /proc/$$/fd && ls"])
        try #require(result.status == 0, "\(result)")
        return result.stdout.split(separator: "\n").map(String.init).sorted()
    }

    @Test func aChildHoldsOnlyItsStandardDescriptors() throws {
        let directory = try TemporaryDirectory("hygiene")
        let path = try directory.write("held.conf", "x")
        // Held without O_CLOEXEC on purpose, as Foundation's Data.write opens: a spawner that
        // relies on the flag, or on a list of descriptors read before it spawns, leaks it.
        let held = open(path, O_WRONLY)
        try #require(held >= 0)
        defer { close(held) }
        #expect(try descriptorsOfAChild() == ["0", "1", "2"])
    }

    /// Every Swift and C source under Tests/, with its lines.
    private static func testSources() throws -> [(path: String, lines: [Substring])] {
        let root = FileList.packageRoot + "/Tests"
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return try files.filter { $0.hasSuffix(".swift") || $0.hasSuffix(".c") }.sorted().map { relative in
            let text = try String(contentsOfFile: "\(root)/\(relative)", encoding: .utf8)
            return ("Tests/\(relative)", text.split(separator: "\n", omittingEmptySubsequences: false))
        }
    }

    /// The sweep that keeps the class of bug out: no test spawns through Foundation's
    /// `Process` (or its `Pipe`s), writes a file through Foundation (`Data.write`,
    /// `String.write(toFile:)`, which open without O_CLOEXEC), or opens a file or socket
    /// without the close-on-exec flag. Doc comments, this file's own patterns
    /// and Python's `.accept()` (Python's descriptors are not inheritable) are skipped.
    @Test func theTestSourcesOpenEveryDescriptorCloseOnExec() throws {
        let forbidden = ["Process()", "Pipe()", ".write(to:", "write(toFile:", "createFile(atPath:", "FileHandle(forWriting",
                         "pipe(&"]
        var findings: [String] = []
        for (path, lines) in try Self.testSources() where !path.hasSuffix("DescriptorHygieneTests.swift") {
            for (number, line) in lines.enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                let where_ = "\(path):\(number + 1): \(code)"
                for pattern in forbidden where line.contains(pattern) { findings.append("\(where_)  [\(pattern)]") }
                let opens = line.contains(" open(") || line.contains("= open(") || line.contains("(open(")
                let sockets = line.contains("socket(AF_") || (line.contains("accept(") && !line.contains(".accept("))
                if (opens || sockets) && !line.contains("CLOEXEC") { findings.append("\(where_)  [no CLOEXEC]") }
            }
        }
        #expect(findings.isEmpty, "descriptors a child could inherit:\n\(findings.joined(separator: "\n"))")
    }

    /// The shell scripts of the project (a `#!` line naming a shell, or `.sh`), but the one
    /// that shows the old pattern failing on purpose (`scripts/repro/sigpipe-pipefail`).
    private static func shellScripts() throws -> [(path: String, lines: [Substring])] {
        let root = FileList.packageRoot
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return try files.filter { !$0.hasPrefix(".build") && !$0.hasPrefix(".git/") && $0 != "scripts/repro/sigpipe-pipefail" }
            .sorted().compactMap { relative in
                let path = "\(root)/\(relative)"
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                      relative.hasSuffix(".sh") || (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 64))
                          .flatMap({ String(decoding: $0, as: UTF8.self).split(separator: "\n").first })
                          .map({ $0.hasPrefix("#!") && ($0.hasSuffix("bash") || $0.hasSuffix("/sh")) }) == true
                else { return nil }
                let text = try String(contentsOfFile: path, encoding: .utf8)
                return (relative, text.split(separator: "\n", omittingEmptySubsequences: false))
            }
    }

    /// Issue 25's second class: under `set -o pipefail`, a reader that exits early (`grep -q`,
    /// `grep -m`, `head`) lets SIGPIPE kill the command before it and turns a found match into
    /// a failure. No shell script of the project pipes into one; capture the output first.
    @Test func noShellScriptPipesIntoAnEarlyExitingReader() throws {
        let readers = ["| grep -q", "|grep -q", "| grep -m", "| head", "|head", "| grep -l"]
        var findings: [String] = []
        let scripts = try Self.shellScripts()
        #expect(scripts.count >= 10, "the scripts were found: \(scripts.map(\.path))")
        for (path, lines) in scripts {
            for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                for reader in readers where line.contains(reader) { findings.append("\(path):\(number + 1): \(line)  [\(reader)]") }
            }
        }
        #expect(findings.isEmpty, "early-exiting readers in pipelines:\n\(findings.joined(separator: "\n"))")
    }
}

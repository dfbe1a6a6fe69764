import Foundation
import KeepaliveTestKit
import Testing

/// One fixture of Tests/Fixtures/bad-input: a directory holding a config (and profiles,
/// drop-ins) with an `expect` file: `FILE LINE CLASS EXIT`.
struct BadInputFixture: CustomTestStringConvertible, Sendable {
    let name: String
    let directory: String
    let file: String
    let line: String
    let code: String
    let exit: Int32
    var testDescription: String { name }

    static let all: [BadInputFixture] = {
        let root = FileList.packageRoot + "/Tests/Fixtures/bad-input"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap { name in
            guard let expect = try? String(contentsOfFile: "\(root)/\(name)/expect", encoding: .utf8) else { return nil }
            let parts = expect.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return BadInputFixture(name: name, directory: "\(root)/\(name)", file: parts[0], line: parts[1],
                                   code: parts[2], exit: Int32(parts[3])!)
        }
    }()
}

@Suite("The bad-input catalogue: exact diagnostic, exit code, nothing written")
struct BadInputCatalogueTests {
    @Test func theCatalogueHasAtLeast40Fixtures() {
        #expect(BadInputFixture.all.count >= 40)
    }

    /// Copies the fixture into a harness (config, profiles, drop-ins) and returns it. The
    /// copies get modes 0644 and 0755, whatever the checkout's umask gave the fixtures.
    func harness(for fixture: BadInputFixture) throws -> CLIHarness {
        let harness = try CLIHarness()
        try FileManager.default.removeItem(atPath: harness.profileDirectory)
        for item in try FileManager.default.contentsOfDirectory(atPath: fixture.directory) where item != "expect" {
            try harness.directory.copy("\(fixture.directory)/\(item)", to: item)
        }
        if !FileManager.default.fileExists(atPath: harness.profileDirectory) {
            try harness.directory.makeDirectory("profiles")
        }
        return harness
    }

    @Test(arguments: BadInputFixture.all)
    func rejected(_ fixture: BadInputFixture) throws {
        let harness = try harness(for: fixture)
        let location = harness.directory.url("\(fixture.file):\(fixture.line): error: ")
        for command in ["check", "apply", "verify"] {
            let result = try harness.run(command)
            #expect(result.status == fixture.exit, "\(command): \(result)")
            let line = result.stderr.split(separator: "\n").first { $0.hasPrefix(location) }
            #expect(line?.hasSuffix("[\(fixture.code)]") == true, "\(command) wanted \(location)… [\(fixture.code)]:\n\(result.stderr)")
        }
        #expect(try harness.sysctl.compact() == "7200/75/9", "a rejected config wrote to the sysctls")
    }

    /// The copies above are 0644 under any umask; the product still refuses a config that
    /// its group may write (as a umask-002 checkout's fixtures are), with its own diagnostic,
    /// whatever the config says, and writes nothing. Strict modes are a root's.
    @Test(.enabled(if: geteuid() == 0, "strict modes apply when running as root"))
    func aGroupWritableConfigIsRefusedWithItsDiagnostic() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n")
        try #require(chmod(harness.configPath, 0o664) == 0)
        for command in ["check", "apply", "verify"] {
            let result = try harness.run(command)
            #expect(result.status == 2, "\(command): \(result)")
            #expect(result.stderr.contains("\(harness.configPath): error: is writable by group or others (mode 664); refusing it, "
                + "since whoever can write it controls the keepalive settings (fix: chmod go-w '\(harness.configPath)') [insecure-permissions]"),
                "\(command): \(result.stderr)")
        }
        #expect(try harness.sysctl.compact() == "7200/75/9", "a refused config wrote to the sysctls")
    }

    @Test func aTenMegabyteFileIsRefusedAtTheLineWhereItCrosses64KiB() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n" + String(repeating: "# ten megabytes of comments.....\n", count: 320_000))
        let result = try harness.run("apply")
        #expect(result.status == 2)
        // 26 bytes of header, then 33-byte lines: the 65,536th byte falls on line 2 + 1985 + 1.
        #expect(result.stderr.contains("\(harness.configPath):1988: error: file is 10560026 bytes, over the 64 KiB limit"), "\(result.stderr)")
        #expect(try harness.sysctl.compact() == "7200/75/9")
    }

    @Test func aDirectoryWhereTheConfigShouldBe() throws {
        let harness = try CLIHarness()
        try harness.directory.makeDirectory("keepalived-tune.conf")
        let result = try harness.run("apply")
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(harness.configPath): error: is a directory; a config or profile must be a regular file [not-a-regular-file]"))
        #expect(try harness.sysctl.compact() == "7200/75/9")
    }

    @Test func aDirectoryWhereAProfileShouldBe() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = p\n")
        try harness.directory.makeDirectory("profiles/p.conf")
        let result = try harness.run("apply")
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(harness.profileDirectory)/p.conf: error: is a directory"))
    }

    /// Root reads any file, so the permission bits alone cannot make one unreadable: the
    /// command runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (setpriv), as a confined
    /// service would.
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs root and setpriv to drop the DAC capabilities"))
    func anUnreadableFile() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\n")
        chmod(harness.configPath, 0)
        let result = try ChildProcess.run(["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                                           "--bounding-set=-dac_override,-dac_read_search",
                                           ChildProcess.keepalivedTune, "apply"] + harness.options)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("\(harness.configPath): error: cannot open: Permission denied (EACCES) [unreadable]"), "\(result.stderr)")
        #expect(try harness.sysctl.compact() == "7200/75/9")
    }
}

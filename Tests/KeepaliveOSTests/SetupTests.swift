import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

@Suite("Config and profile files on disk")
struct SetupTests {
    @Test func missingConfigMeansBuiltinDefaults() throws {
        let directory = try TemporaryDirectory()
        let setup = Setup(configPath: directory.url("none.conf"), profileDirectories: [directory.url("profiles")])
        let load = setup.loadPolicy()
        #expect(load.diagnostics.isEmpty)
        #expect(load.configFiles.isEmpty)
        #expect(load.policy?.profile.name.rawValue == "default")
        #expect(load.policy?.values == .kernelDefaults)
    }

    @Test func dropInsAreReadInLexicalOrderAfterTheMainFile() throws {
        let directory = try TemporaryDirectory()
        let main = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        try directory.write("k.conf.d/20-b.conf", "[daemon]\nprofile = nat\n")
        try directory.write("k.conf.d/10-a.conf", "[daemon]\nprofile = web\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 5\n")
        try directory.write("k.conf.d/30-ignored.txt", "garbage")
        let load = Setup(configPath: main, profileDirectories: []).loadPolicy()
        #expect(load.configFiles == [main, directory.url("k.conf.d/10-a.conf"), directory.url("k.conf.d/20-b.conf")])
        #expect(load.policy?.profile.name.rawValue == "nat")
        #expect(load.policy?.values == KeepaliveValues(time: 1800, intvl: 75, probes: 5))
    }

    @Test func anEtcProfileOverridesTheBuiltinAndNamesItsLine() throws {
        let directory = try TemporaryDirectory()
        let etc = try directory.makeDirectory("etc")
        try directory.write("etc/server.conf", "[profile]\ndescription = local\ninclude = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 4\n")
        let searchPath = ProfileSearchPath(directories: [etc, directory.url("usr")], reader: FileReader(syscalls: .live))
        let (profile, diagnostics) = searchPath.resolve(ProfileName("server")!)
        #expect(diagnostics.isEmpty)
        #expect(profile?.values == KeepaliveValues(time: 1800, intvl: 30, probes: 4))
        #expect(profile?.provenance[.probes] == SourceLocation(file: "\(etc)/server.conf", line: 5))
        #expect(profile?.provenance[.time]?.file == "<built-in>/server.conf")
        let inventory = searchPath.inventory().entries
        #expect(inventory.filter { $0.name.rawValue == "server" }.map(\.shadowed) == [false, true])
    }

    @Test func aDirectoryWhereAFileShouldBeIsReported() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.makeDirectory("k.conf")
        let load = Setup(configPath: path, profileDirectories: []).loadConfig()
        #expect(load.diagnostics.map(\.code) == [.notARegularFile])
        #expect(load.diagnostics.first?.location == SourceLocation(file: path, line: nil))
    }

    @Test func aHugeFileIsRefusedWithoutReadingAllOfIt() throws {
        let directory = try TemporaryDirectory()
        let big = try directory.write("big.conf", String(repeating: "# padding line\n", count: 700_000))
        guard case .read(let source) = FileReader(syscalls: .live).read(big) else { Issue.record("not read"); return }
        #expect(source.bytes.count <= SourceText.maximumSize + 16 * 1024)
        #expect(source.totalSize == 700_000 * 15)
        #expect(IniDocument(source).diagnostics.map(\.code) == [.fileTooLarge])
    }

    /// A config truncated while it is read: fstat(2) still shows the old size, but no byte
    /// is left to read (on a busy machine the truncation's inotify event comes later still).
    /// It reads as empty, so the daemon keeps its profile instead of applying the defaults
    /// an empty config means.
    @Test func aConfigTruncatedWhileReadCountsAsEmpty() throws {
        let directory = try TemporaryDirectory()
        let main = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        var calls = Syscalls.live
        calls.pread.body = { _, _, _ in .success(0) }   // the bytes are gone; the size was not
        let load = Setup(configPath: main, profileDirectories: [], reader: FileReader(syscalls: calls, strictModes: false)).loadPolicy()
        #expect(load.configFiles == [main])
        #expect(load.emptyFiles == [main])
    }

    @Test func badlyNamedProfileFilesAreReportedNotOpened() throws {
        let directory = try TemporaryDirectory()
        try directory.write("p/-x.conf", "[profile]\n")
        try directory.write("p/ok.conf", profileTextForDisk)
        let (entries, diagnostics) = ProfileSearchPath(directories: [directory.url("p")], reader: FileReader(syscalls: .live)).inventory()
        #expect(entries.map(\.name.rawValue).contains("ok"))
        #expect(!entries.map(\.name.rawValue).contains("-x"))
        #expect(diagnostics.map(\.code) == [.invalidProfileName])
    }
}

let profileTextForDisk = "[profile]\ndescription = ok\ninclude = default\n"

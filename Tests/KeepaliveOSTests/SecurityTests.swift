import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

@Suite("Strict modes: a root daemon trusts only root's files")
struct StrictModesTests {
    let strict = FileReader(syscalls: .live, strictModes: true)

    func setup(_ directory: TemporaryDirectory) -> Setup {
        Setup(configPath: directory.url("k.conf"), profileDirectories: [directory.url("profiles")], reader: strict)
    }

    func codes(_ load: PolicyLoad) -> [Diagnostic.Code] { load.diagnostics.errors.map(\.code) }

    @Test("group- or other-writable files are refused", arguments: [0o664, 0o646, 0o666, 0o777])
    func writableConfig(mode: Int) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        chmod(path, mode_t(mode))
        let load = setup(directory).loadPolicy()
        #expect(load.policy == nil)
        #expect(codes(load) == [.insecurePermissions])
        #expect(load.diagnostics.first?.message.contains("fix: chmod go-w '\(path)'") == true)
    }

    @Test func aWritableDropInOrProfileIsRefusedToo() throws {
        let directory = try TemporaryDirectory()
        try directory.write("k.conf", "[daemon]\nprofile = mine\n")
        let profile = try directory.write("profiles/mine.conf", "[profile]\ninclude = server\n")
        chmod(profile, 0o606)
        #expect(codes(setup(directory).loadPolicy()) == [.insecurePermissions])
        chmod(profile, 0o644)
        #expect(setup(directory).loadPolicy().policy != nil)
        let dropIn = try directory.write("k.conf.d/10.conf", "[daemon]\n")
        chmod(dropIn, 0o620)
        #expect(codes(setup(directory).loadPolicy()) == [.insecurePermissions])
    }

    @Test func aWritableDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        try directory.write("k.conf", "[daemon]\nprofile = mine\n")
        let profiles = try directory.makeDirectory("profiles")
        try directory.write("profiles/mine.conf", "[profile]\ninclude = server\n")
        chmod(profiles, 0o777)
        let load = setup(directory).loadPolicy()
        #expect(codes(load) == [.insecurePermissions])
        #expect(load.diagnostics.first?.location.file == profiles)
    }

    @Test(.enabled(if: geteuid() == 0, "chown needs root"))
    func aFileOwnedByAnotherUserIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        chown(path, 1000, 1000)
        let load = setup(directory).loadPolicy()
        #expect(codes(load) == [.insecurePermissions])
        #expect(load.diagnostics.first?.message.contains("owned by uid 1000, not root") == true)
        #expect(load.diagnostics.first?.message.contains("fix: chown root '\(path)'") == true)
    }

    @Test func withoutStrictModesTheSameFilesAreRead() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("k.conf", "[daemon]\nprofile = server\n")
        chmod(path, 0o666)
        let load = Setup(configPath: path, profileDirectories: [], reader: FileReader(syscalls: .live, strictModes: false)).loadPolicy()
        #expect(load.policy?.profile.name.rawValue == "server")
    }
}

@Suite("Profile names and symlinks never escape the profile directories")
struct SymlinkTests {
    @Test func aSymlinkOutOfThePathIsRefusedNeverRead() throws {
        let directory = try TemporaryDirectory()
        let secret = try directory.write("outside/secret.conf", "[profile]\ninclude = server\n")
        try directory.makeDirectory("profiles")
        try FileManager.default.createSymbolicLink(atPath: directory.url("profiles/evil.conf"), withDestinationPath: secret)
        let searchPath = ProfileSearchPath(directories: [directory.url("profiles")], reader: FileReader(syscalls: .live))
        let (profile, diagnostics) = searchPath.resolve(ProfileName("evil")!)
        #expect(profile == nil)
        #expect(diagnostics.map(\.code) == [.unsafeSymlink])
        #expect(diagnostics.first?.message.hasPrefix("is a symlink to \(secret), outside the profile directories") == true)
    }

    @Test func aSymlinkWithinTheSearchPathIsAnAlias() throws {
        let directory = try TemporaryDirectory()
        let real = try directory.write("usr/base.conf", "[profile]\ninclude = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 4\n")
        try directory.makeDirectory("etc")
        try FileManager.default.createSymbolicLink(atPath: directory.url("etc/alias.conf"), withDestinationPath: real)
        let searchPath = ProfileSearchPath(directories: [directory.url("etc"), directory.url("usr")], reader: FileReader(syscalls: .live))
        #expect(searchPath.resolve(ProfileName("alias")!).0?.values.probes == 4)
    }

    @Test func dotDotInAProfileNameIsRefusedBeforeAnyFileIsOpened() throws {
        // ProfileName is the only way to name a profile, and it cannot hold '/' or '..'.
        #expect(ProfileName("../../etc/passwd") == nil)
        #expect(ProfileName("..") == nil)
        let directory = try TemporaryDirectory()
        try directory.write("k.conf", "[daemon]\nprofile = ../outside\n")
        let load = Setup(configPath: directory.url("k.conf"), profileDirectories: [directory.url("p")]).loadPolicy()
        #expect(load.diagnostics.map(\.code) == [.invalidProfileName])
    }
}

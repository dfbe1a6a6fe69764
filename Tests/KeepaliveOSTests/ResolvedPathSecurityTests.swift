import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Issue 19 #11: strict modes check the real, resolved path, every directory on it and every
/// link on the way, not only the directory named in the path.
@Suite("Strict modes on the resolved path", .enabled(if: geteuid() == 0, "ownership checks need root (chown)"))
struct ResolvedPathSecurityTests {
    let strict = FileReader(syscalls: .live, strictModes: true)

    func refusal(_ outcome: FileReader.Outcome) -> Diagnostic? {
        if case .failed(let diagnostic) = outcome { return diagnostic }
        return nil
    }

    @Test func aConfigReachedThroughASymlinkIntoAUserOwnedDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        let userDirectory = try directory.makeDirectory("user")
        let config = try directory.write("user/k.conf", "[daemon]\nprofile = server\n")
        chown(userDirectory, 65534, 65534)   // nobody owns the directory; root owns the file
        try FileManager.default.createSymbolicLink(atPath: directory.url("k.conf"), withDestinationPath: config)
        let diagnostic = try #require(refusal(strict.read(directory.url("k.conf"))))
        #expect(diagnostic.code == .insecurePermissions)
        #expect(diagnostic.location.file == userDirectory, "\(diagnostic)")
        #expect(diagnostic.message.contains("owned by uid 65534"))
    }

    @Test func aDirectoryHigherUpThatOthersCanWriteIsRefused() throws {
        let directory = try TemporaryDirectory()
        let open = try directory.makeDirectory("open")
        let config = try directory.write("open/safe/k.conf", "[daemon]\nprofile = server\n")
        chmod(open, 0o777)   // its child 'safe' is root's, but anyone may rename it away
        let diagnostic = try #require(refusal(strict.read(config)))
        #expect(diagnostic.code == .insecurePermissions)
        #expect(diagnostic.location.file == open)
    }

    @Test func aStickyDirectoryOnTheWayIsFineForRootsOwnEntries() throws {
        let directory = try TemporaryDirectory()
        let sticky = try directory.makeDirectory("sticky")
        chmod(sticky, 0o1777)   // like /tmp: others cannot rename root's entries
        let config = try directory.write("sticky/k.conf", "[daemon]\nprofile = server\n")
        #expect(refusal(strict.read(config)) == nil)
    }

    @Test func aLinkOthersOwnIsRefused() throws {
        let directory = try TemporaryDirectory()
        let sticky = try directory.makeDirectory("sticky")
        chmod(sticky, 0o1777)
        let config = try directory.write("real/k.conf", "[daemon]\nprofile = server\n")
        let link = directory.url("sticky/k.conf")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: config)
        lchown(link, 65534, 65534)   // in a sticky directory, its owner may replace it
        let diagnostic = try #require(refusal(strict.read(link)))
        #expect(diagnostic.code == .insecurePermissions)
        #expect(diagnostic.location.file == link)
    }

    /// A relative `--config` in a directory anyone may write: the directory is checked
    /// through the resolved path (a bare name has no directory to look at lexically).
    @Test func aRelativeConfigInAWorldWritableDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        let open = try directory.makeDirectory("open")
        try directory.write("open/kt.conf", "[daemon]\nprofile = server\n")
        chmod(open, 0o777)
        let result = try ChildProcess.run(["bash", "-c", "cd \"$0\" && \"$1\" check --config kt.conf --profile-dir none", open, ChildProcess.keepalivedTune])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("\(open): error: is writable by group or others"), "\(result)")
    }
}

@Suite("Profile symlinks that fail to resolve")
struct UnresolvableProfileLinkTests {
    /// A link whose real path is longer than PATH_MAX: realpath(3) fails while open(2) would
    /// follow it. The check fails closed.
    @Test func aLinkWhoseRealPathIsTooLongIsRefusedNotRead() throws {
        let directory = try TemporaryDirectory()
        // Deeper than PATH_MAX: FileManager cannot remove it (TemporaryDirectory's deinit
        // would leave it behind); rm(1) walks it with openat(2).
        defer { _ = try? ChildProcess.run(["rm", "-rf", "--one-file-system", directory.url("outside")]) }
        let deep = String(repeating: "d", count: 250)
        // 20 levels of 250-character names: over 5,000 bytes, made one level at a time.
        // (No single link may name more than PATH_MAX bytes: two hops, ten levels each.)
        let script = """
            set -e
            cd "$0"; mkdir outside; cd outside
            for i in $(seq 10); do mkdir \(deep); cd \(deep); done
            half=$PWD
            for i in $(seq 10); do mkdir \(deep); cd \(deep); done
            printf '[profile]\\ninclude = server\\n' > evil.conf
            cd "$half"; ln -s "$(printf '\(deep)/%.0s' $(seq 10))evil.conf" hop2
            ln -s "$half/hop2" "$0/hop"
            """
        let made = try ChildProcess.run(["bash", "-c", script, directory.path])
        try #require(made.status == 0, "\(made)")
        try directory.makeDirectory("profiles")
        try FileManager.default.createSymbolicLink(atPath: directory.url("profiles/evil.conf"), withDestinationPath: directory.url("hop"))
        let (profile, diagnostics) = ProfileSearchPath(directories: [directory.url("profiles")], reader: FileReader(syscalls: .live)).resolve(ProfileName("evil")!)
        #expect(profile == nil)
        #expect(diagnostics.map(\.code) == [.unsafeSymlink], "\(diagnostics)")
    }

    @Test func aDanglingLinkIsCalledThat() throws {
        let directory = try TemporaryDirectory()
        try directory.makeDirectory("profiles")
        try FileManager.default.createSymbolicLink(atPath: directory.url("profiles/gone.conf"), withDestinationPath: directory.url("profiles/missing.conf"))
        let (profile, diagnostics) = ProfileSearchPath(directories: [directory.url("profiles")], reader: FileReader(syscalls: .live)).resolve(ProfileName("gone")!)
        #expect(profile == nil)
        #expect(diagnostics.first?.message.contains("dangling symlink") == true, "\(diagnostics)")
        #expect(diagnostics.first?.message.contains("did you mean") == false)
    }
}

import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Issue 17: `restore-on-stop` survives a crash. The values found at the first start of a
/// boot are kept in the runtime directory; a later start in the same boot takes them from
/// there instead of the values in force then (the profile's, after a crash).
@Suite("Originals survive a crash", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil, Comment(rawValue: DaemonUnderTest.unavailableReason ?? "")))
struct OriginalsSurviveACrashTests {
    /// Start, kill -9, start again, SIGTERM: the namespace ends at its true originals.
    @Test func aCrashAndRestartStillRestoresTheTrueOriginals() throws {
        let daemon = try DaemonUnderTest(config: serverConfig + "restore-on-stop = yes\n")
        let runtime = daemon.directory.url("run")
        try daemon.startAwaitingReady(["--runtime-dir", runtime])
        #expect(try daemon.values() == "1800/30/3")
        let saved = try String(contentsOfFile: "\(runtime)/originals", encoding: .utf8)
        #expect(saved.contains(" values 7200/75/9\n"))
        #expect(try FileManager.default.attributesOfItem(atPath: "\(runtime)/originals")[.posixPermissions] as? Int == 0o600)
        try crashRestartAndStop(daemon, runtime: runtime)
        #expect(try daemon.values() == "7200/75/9")
        let restored = try #require(daemon.waitForEvent("restored"), "\(daemon.journalText)")
        #expect(restored.entry["MESSAGE"]?.contains("found at first start") == true)
        #expect(restored.entry["ORIGINALS_FILE"] == "\(runtime)/originals")
        #expect(!FileManager.default.fileExists(atPath: "\(runtime)/originals"), "a clean stop that restored forgets them")
    }

    /// With `restore-on-stop = no`, a crash and restart change nothing from before: the
    /// profile stays after the stop, and the file stays for a later switch of the setting.
    @Test func withoutRestoreOnStopACrashChangesNothing() throws {
        let daemon = try DaemonUnderTest(config: serverConfig)
        let runtime = daemon.directory.url("run")
        try daemon.startAwaitingReady(["--runtime-dir", runtime])
        try crashRestartAndStop(daemon, runtime: runtime)
        #expect(try daemon.values() == "1800/30/3")
        #expect(try String(contentsOfFile: "\(runtime)/originals", encoding: .utf8).contains(" values 7200/75/9\n"))
    }

    /// A file that cannot be trusted is reported, set aside, and nothing is restored from it.
    @Test func aDamagedFileIsReportedAndNothingIsRestoredFromIt() throws {
        let daemon = try DaemonUnderTest(config: serverConfig + "restore-on-stop = yes\n")
        let runtime = daemon.directory.url("run")
        let file = try daemon.directory.write("run/originals", "keepalived-tune-originals 9\nnetns 1 cookie 1 found 1 values 1000/10/5\n")
        chmod(file, 0o600)
        try daemon.start(["--runtime-dir", runtime])
        let rejected = try #require(daemon.waitForEvent("originals-rejected"), "\(daemon.journalText)")
        #expect(rejected.entry["MESSAGE"]?.contains("format version 9 is not 2") == true)
        #expect(rejected.entry["MESSAGE"]?.contains("renamed aside to \(file).rejected") == true)
        #expect(FileManager.default.fileExists(atPath: "\(file).rejected"))
        _ = try #require(daemon.waitForNotify { $0["READY"] == "1" })
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try daemon.values() == "7200/75/9")
    }
}

/// Kills the daemon with SIGKILL, starts it again with the same runtime directory, waits for
/// its READY=1, then stops it cleanly with SIGTERM.
func crashRestartAndStop(_ daemon: DaemonUnderTest, runtime: String) throws {
    #expect(daemon.crash())
    try daemon.startAwaitingReady(["--runtime-dir", runtime])
    daemon.signal(SIGTERM)
    #expect(daemon.waitForExit() == 0)
}

/// Each kind of damaged or foreign originals file, in-process.
@Suite("Originals store")
struct OriginalsStoreTests {
    static let boot = "5b1e8c0e-test"
    static let good = Originals(boot: boot, records: [Originals.Key(inode: 4026531840, cookie: 1): .init(values: .kernelDefaults, foundAt: 1_764_672_600)]).text

    /// `count` records of namespaces 4026532000 and on, each with a cookie of its own.
    static func many(_ count: Int) -> [Originals.Key: Originals.Record] {
        Dictionary(uniqueKeysWithValues: (0..<UInt64(count)).map {
            (Originals.Key(inode: 4_026_532_000 + $0, cookie: 10_000 + $0), Originals.Record(values: .kernelDefaults, foundAt: 1_764_672_600))
        })
    }

    @Test func savedWholeAndReadBack() throws {
        let directory = try TemporaryDirectory()
        let store = OriginalsStore(directory: directory.url("run"), syscalls: .live)
        let originals = Originals(boot: Self.boot, records: [Originals.Key(inode: 7, cookie: 70): .init(values: KeepaliveValues(time: 600, intvl: 10, probes: 4), foundAt: 1),
                                                             Originals.Key(inode: 7, cookie: 71): .init(values: .kernelDefaults, foundAt: 2)])
        #expect(originals.text == "keepalived-tune-originals 2\nboot \(Self.boot)\nnetns 7 cookie 70 found 1 values 600/10/4\nnetns 7 cookie 71 found 2 values 7200/75/9\n")
        #expect(store.save(originals) == nil)
        guard case .found(let read) = store.load(boot: Self.boot) else { Issue.record("not found"); return }
        #expect(read == originals)
    }

    @Test(arguments: [
        ("garbage\n", "it is not a keepalived-tune originals file"),
        ("keepalived-tune-originals 1\nboot \(boot)\nsaved 1\nnetns 4026531840 net.ipv4.tcp_keepalive_time 7200\n", "its format version 1 is not 2"),
        (good.replacingOccurrences(of: boot, with: "another-boot"), "it was saved in another boot (another-boot)"),
        (good.replacingOccurrences(of: "7200/75/9", with: "7200/x/9"), "line 3 is malformed"),
        (good.replacingOccurrences(of: "7200/75/9", with: "7200/75"), "line 3 is malformed"),
        (good.replacingOccurrences(of: " cookie 1 ", with: " "), "line 3 is malformed"),
        (good + good.split(separator: "\n").last! + "\n", "line 4 is malformed"),
    ])
    func aFileThatDoesNotParseWholeIsSetAside(text: String, reason: String) throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("originals", text)
        chmod(file, 0o600)
        guard case .rejected(let why, let movedTo) = OriginalsStore(directory: directory.path, syscalls: .live).load(boot: Self.boot) else {
            Issue.record("trusted: \(text)"); return
        }
        #expect(why == reason)
        #expect(movedTo == file + ".rejected")
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    /// Files around the 1 MiB that the reader stopped at (16,000 namespaces here), each
    /// padded to its exact size through its boot id: what the writer wrote is read back
    /// whole (issue 32, finding 12).
    @Test(arguments: [-1, 0, 1])
    func aFileAroundOneMebibyteIsReadBackWhole(offset: Int) throws {
        let directory = try TemporaryDirectory()
        let store = OriginalsStore(directory: directory.path, syscalls: .live)
        let many = Self.many(16_000)
        let size = (1 << 20) + offset
        let unpadded = Originals(boot: "b", records: many).text.utf8.count
        try #require(unpadded < size)
        let boot = "b" + String(repeating: "0", count: size - unpadded)
        let originals = Originals(boot: boot, records: many)
        #expect(store.save(originals) == nil)
        #expect(try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int == size)
        guard case .found(let read) = store.load(boot: boot, setAside: false) else {
            Issue.record("a file of \(size) bytes was not read back")
            return
        }
        #expect(read == originals)
    }

    /// A file that `pread` hands over in small pieces is still read whole.
    @Test func aFileReadInSmallPiecesIsReadWhole() throws {
        let directory = try TemporaryDirectory()
        var calls = Syscalls.live
        let realRead = calls.pread.body
        calls.pread.body = { fd, buffer, offset in realRead(fd, UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(4096)), offset) }
        let store = OriginalsStore(directory: directory.path, syscalls: calls)
        let originals = Originals(boot: Self.boot, records: Self.many(300))
        try #require(originals.text.utf8.count > 3 * 4096)
        #expect(store.save(originals) == nil)
        guard case .found(let read) = store.load(boot: Self.boot, setAside: false) else {
            Issue.record("a file read in pieces was not read whole")
            return
        }
        #expect(read == originals)
    }

    @Test func aFileOthersCanWriteIsSetAside() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("originals", Self.good)
        chmod(file, 0o622)
        guard case .rejected(let why, _) = OriginalsStore(directory: directory.path, syscalls: .live).load(boot: Self.boot) else {
            Issue.record("trusted"); return
        }
        #expect(why == "it is writable by group or others (mode 622)")
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to chown"))
    func aFileRootDoesNotOwnIsSetAside() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("originals", Self.good)
        chmod(file, 0o600)
        chown(file, 65534, 65534)
        guard case .rejected(let why, _) = OriginalsStore(directory: directory.path, syscalls: .live, strictModes: true).load(boot: Self.boot) else {
            Issue.record("trusted"); return
        }
        #expect(why == "it is owned by uid 65534, not root")
    }
}

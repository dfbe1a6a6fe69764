import Glibc
import InMemoryLogging
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Logging
import Testing

/// ``OriginalsBook``, in-process: a temporary directory stands in for the runtime directory,
/// fake sysctl roots for the namespaces whose values it recalls, and an inotify watch on the
/// directory counts the file's replacements (each save renames a temp file over it: one
/// `IN_MOVED_TO`), so "written once per flush" is an event count, not a guess.
@Suite("Originals book (in-process)")
struct OriginalsBookTests {
    /// The runtime directory, its store, the log the book reports to and the watch on it.
    final class Fixture {
        let directory: TemporaryDirectory
        let store: OriginalsStore
        let boot = OriginalsStore.bootID(syscalls: .live)
        let logs = InMemoryLogHandler()
        let log: EventLog
        private let renames: Inotify
        /// The fake roots behind the trees handed out, kept while the fixture lives.
        private var roots: [FakeSysctlRoot] = []

        init() throws {
            directory = try TemporaryDirectory("originals-book")
            store = OriginalsStore(directory: directory.path, syscalls: .live)
            let handler = logs
            log = EventLog(logger: Logger(label: "test") { _ in handler })
            renames = try Inotify(syscalls: .live)
            _ = try renames.add(directory.path, mask: UInt32(IN_MOVED_TO))
        }

        /// How many times the originals file was replaced since the last call.
        func writes() -> Int { renames.drain().filter { $0.name == "originals" }.count }

        /// A book over `store` (the fixture's own by default), as the daemon makes it.
        func book(_ store: OriginalsStore? = nil) -> OriginalsBook {
            OriginalsBook(store: store ?? self.store, boot: boot, log: log)
        }

        /// What the store loads from the file now (`nil`: missing or rejected).
        func saved() -> Originals? {
            if case .found(let originals) = store.load(boot: boot, setAside: false) { return originals }
            return nil
        }

        /// The values saved, by inode (each inode has one cookie in these tests).
        func savedValues() -> [UInt64: KeepaliveValues]? {
            saved().map { Dictionary($0.records.map { ($0.key.inode, $0.value.values) }) { first, _ in first } }
        }

        /// Saves `values` as records (cookies as ``OriginalsBookTests/key(_:)`` gives them)
        /// found at `foundAt`, as a daemon's earlier run would have.
        func save(_ values: [UInt64: KeepaliveValues], foundAt: Int) -> Errno? {
            store.save(Originals(boot: boot, records: Dictionary(uniqueKeysWithValues: values.map {
                (OriginalsBookTests.key($0.key), Originals.Record(values: $0.value, foundAt: foundAt))
            })))
        }

        /// The file's lines as written.
        func lines() throws -> [String] { try directory.read("originals").split(separator: "\n").map(String.init) }

        /// A namespace's tree, on a fake root holding `values`.
        func tree(_ values: KeepaliveValues) throws -> (root: FakeSysctlRoot, tree: SysctlTree) {
            let root = try FakeSysctlRoot(time: values.time, intvl: values.intvl, probes: values.probes)
            roots.append(root)
            return (root, SysctlTree(root: root.path, syscalls: .live))
        }

        /// The `EVENT` of every entry logged.
        var events: [String] { logs.entries.compactMap { $0.metadata["EVENT"].map { "\($0)" } } }
    }

    static let found = KeepaliveValues(time: 1000, intvl: 10, probes: 5)
    static let later = KeepaliveValues(time: 2000, intvl: 20, probes: 6)

    /// Namespace `inode`'s key in these tests: its cookie is the inode plus 1,000,000.
    /// Cookies matter where an inode is reused (``OriginalsReuseTests``).
    static func key(_ inode: UInt64) -> Originals.Key { Originals.Key(inode: inode, cookie: inode + 1_000_000) }

    @Test func aRecallReadsTheTreeOnceAndTheFileIsWrittenOnlyByAFlush() throws {
        let fixture = try Fixture()
        let book = fixture.book()
        let (root, tree) = try fixture.tree(Self.found)
        #expect(book.recall(101, tree: tree) == Self.found)
        try root.set("tcp_keepalive_time", 9999)   // written since: the book keeps what it found first
        #expect(book.recall(101, tree: tree) == Self.found)
        #expect(fixture.writes() == 0)
        guard case .missing = fixture.store.load(boot: fixture.boot) else {
            Issue.record("the file exists before the first flush")
            return
        }
        let before = Int(time(nil))
        book.flush()
        #expect(fixture.writes() == 1)
        let lines = try fixture.lines()
        #expect(Array(lines.prefix(2)) == ["keepalived-tune-originals 2", "boot \(fixture.boot)"])
        let found = fixture.saved()?.records[Self.key(101)]?.foundAt
        #expect(found.map { (before...Int(time(nil))).contains($0) } == true, "\(lines)")
        #expect(Array(lines.dropFirst(2)) == ["netns 101 cookie 1000101 found \(found ?? 0) values 1000/10/5"])
        book.flush()
        #expect(fixture.writes() == 0, "nothing changed since the last write")
        #expect(fixture.events.isEmpty)
    }

    @Test func manyNamespacesRecalledInOneTurnAreOneWrite() throws {
        let fixture = try Fixture()
        let book = fixture.book()
        let tree = try fixture.tree(Self.found).tree
        for inode in UInt64(1)...100 { _ = book.recall(inode, tree: tree) }
        book.forget(50)
        book.flush()
        #expect(fixture.writes() == 1)
        #expect(fixture.savedValues()?.count == 99)
        #expect(fixture.savedValues()?[50] == nil)
    }

    @Test func forgettingAKnownNamespaceWritesAndAnUnknownOneDoesNot() throws {
        let fixture = try Fixture()
        let book = fixture.book()
        let tree = try fixture.tree(Self.found).tree
        _ = book.recall(101, tree: tree)
        _ = book.recall(102, tree: tree)
        book.flush()
        #expect(fixture.writes() == 1)
        book.forget(999)
        book.flush()
        #expect(fixture.writes() == 0)
        book.forget(101)
        book.flush()
        #expect(fixture.writes() == 1)
        #expect(fixture.savedValues() == [102: Self.found])
        // Forgotten, it is found anew: what its tree holds now.
        #expect(book.recall(101, tree: try fixture.tree(Self.later).tree) == Self.later)
        book.flush()
        #expect(fixture.writes() == 1)
        #expect(fixture.savedValues() == [101: Self.later, 102: Self.found])
    }

    @Test func aTreeThatCannotBeReadIsNotRecorded() throws {
        let fixture = try Fixture()
        let book = fixture.book()
        let (root, tree) = try fixture.tree(Self.found)
        #expect(unlink(root.directory.url("net/ipv4/tcp_keepalive_probes")) == 0)
        #expect(book.recall(101, tree: tree) == nil)
        book.flush()
        #expect(fixture.writes() == 0)
    }

    /// The daemon saved its own entry at start; the book takes it in, hands it back without
    /// reading, and keeps it in every write, with the time it was found: a later write of
    /// other namespaces does not move it (on main, every write stamped the whole file anew,
    /// so "the values found at first start (DATE)" drifted to the last adoption).
    @Test func theBookKeepsWhatTheFileHeldAndWhenEachRecordWasFound() throws {
        let fixture = try Fixture()
        let own: UInt64 = 4_026_531_840
        #expect(fixture.save([own: .kernelDefaults], foundAt: 1000) == nil)
        #expect(fixture.writes() == 1)
        let book = fixture.book()
        #expect(fixture.writes() == 0, "taking the file in writes nothing")
        #expect(book.recall(own, tree: try fixture.tree(Self.later).tree) == .kernelDefaults)
        book.flush()
        #expect(fixture.writes() == 0, "a recall of a saved entry changes nothing")
        _ = book.recall(201, tree: try fixture.tree(Self.found).tree)
        book.flush()
        #expect(fixture.writes() == 1)
        #expect(fixture.savedValues() == [own: .kernelDefaults, 201: Self.found])
        #expect(fixture.saved()?.records[Self.key(own)]?.foundAt == 1000)
        #expect(fixture.saved()?.records[Self.key(201)]?.foundAt ?? 0 > 1000)
        let again = fixture.book()
        #expect(again.recall(Self.key(own), tree: try fixture.tree(Self.later).tree)?.foundAt == 1000, "a restart knows when")
    }

    /// A file the store does not trust (not originals, another version, another boot) is
    /// set aside and reported when the book is made (at the daemon's start), and the book
    /// starts empty: its first flush writes only what it found since.
    @Test(arguments: ["garbage\n", "keepalived-tune-originals 1\nboot b\nsaved 1\nnetns 7 net.ipv4.tcp_keepalive_time 1\n",
                      "keepalived-tune-originals 2\nboot another-boot\nnetns 7 cookie 7 found 1 values 1/1/1\n"])
    func aFileThatCannotBeTrustedIsSetAsideAndReplacedAtTheFirstFlush(text: String) throws {
        let fixture = try Fixture()
        let path = try fixture.directory.write("originals", text)
        #expect(chmod(path, 0o600) == 0)
        _ = fixture.writes()
        let book = fixture.book()
        #expect(try fixture.directory.read("originals.rejected") == text)
        #expect(fixture.events == ["originals-rejected"])
        #expect(fixture.logs.entries.first?.metadata["ORIGINALS_FILE"] == .string(fixture.store.path))
        #expect(book.recall(7, tree: try fixture.tree(Self.found).tree) == Self.found)
        book.flush()
        #expect(fixture.writes() == 1)
        #expect(fixture.savedValues() == [7: Self.found])
    }

    /// A file of 20,000 namespaces (more than 1 MiB, which the reader once stopped at) is
    /// read whole: the book knows every saved entry, and the file it writes with more is
    /// read back whole too (issue 32, finding 12).
    @Test func aFileOfManyNamespacesIsReadWholeAndWhatTheBookWritesIsReadBack() throws {
        let fixture = try Fixture()
        let many = Dictionary(uniqueKeysWithValues: (UInt64(4_026_532_000)..<4_026_552_000).map { ($0, Self.found) })
        #expect(fixture.save(many, foundAt: 1) == nil)
        var info = stat()
        #expect(stat(fixture.store.path, &info) == 0 && info.st_size > 1 << 20)
        let book = fixture.book()
        let tree = try fixture.tree(Self.later).tree
        #expect(book.recall(4_026_532_000, tree: tree) == Self.found, "the saved entry is known")
        for inode in UInt64(4_026_552_000)..<4_026_552_800 { _ = book.recall(inode, tree: tree) }
        book.flush()
        #expect(fixture.events.isEmpty)
        #expect(fixture.saved()?.records.count == many.count + 800)
        #expect(fixture.savedValues()?[4_026_532_000] == Self.found)
    }

    /// A flush that fails is reported once (`originals-not-saved`, with the file), and tried
    /// again at every later flush until it succeeds, nothing having changed meanwhile.
    @Test func aFailedFlushIsReportedOnceAndTriedAgainUntilItSucceeds() throws {
        let fixture = try Fixture()
        let blocked = try fixture.directory.write("blocked", "a file where the directory should be")
        let store = OriginalsStore(directory: blocked, syscalls: .live)
        let book = fixture.book(store)
        _ = book.recall(101, tree: try fixture.tree(Self.found).tree)
        book.flush()
        #expect(fixture.events == ["originals-not-saved"])
        #expect(fixture.logs.entries.first?.metadata["ORIGINALS_FILE"] == .string(store.path))
        book.flush()
        #expect(fixture.events == ["originals-not-saved"], "a run of failures is reported once")
        #expect(unlink(blocked) == 0 && mkdir(blocked, 0o700) == 0)
        book.flush()
        #expect(fixture.events == ["originals-not-saved"])
        guard case .found(let originals) = store.load(boot: fixture.boot) else {
            Issue.record("the values the failed flush held were not saved by the next one")
            return
        }
        #expect(originals.records.mapValues(\.values) == [Self.key(101): Self.found])
    }
}

/// In these tests a namespace is named by its inode alone, its cookie being
/// ``OriginalsBookTests/key(_:)``'s.
extension OriginalsBook {
    func recall(_ inode: UInt64, tree: SysctlTree) -> KeepaliveValues? { recall(OriginalsBookTests.key(inode), tree: tree)?.values }
}

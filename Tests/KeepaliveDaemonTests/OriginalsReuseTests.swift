import Glibc
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// A namespace whose inode the kernel gave to a new one after it ended (issue 32, finding 8):
/// records are keyed by inode and cookie, so the new namespace is found anew, never given the
/// dead one's originals, and the dead one's record is dropped. In-process: first with keys
/// the test makes, then with real namespaces whose inode the kernel reuses.
@Suite("Originals and reused inodes (in-process)")
struct OriginalsReuseTests {
    typealias Fixture = OriginalsBookTests.Fixture
    static let found = OriginalsBookTests.found
    static let later = OriginalsBookTests.later

    /// A record of inode 101 under cookie 1 (a namespace that ended while the daemon was
    /// down), another of 202: the namespace that now has inode 101, cookie 2, is found anew
    /// and the dead one's record goes; 202, recalled under its own cookie, is a restart and
    /// keeps its record and its time.
    @Test func aNewNamespaceWithADeadOnesInodeIsFoundAnewAndTheDeadRecordDropped() throws {
        let fixture = try Fixture()
        let (dead, reused, kept) = (Originals.Key(inode: 101, cookie: 1), Originals.Key(inode: 101, cookie: 2), Originals.Key(inode: 202, cookie: 5))
        #expect(fixture.store.save(Originals(boot: fixture.boot, records: [dead: .init(values: Self.found, foundAt: 1000),
                                                                           kept: .init(values: Self.later, foundAt: 1000)])) == nil)
        let book = fixture.book()
        #expect(book.recall(reused, tree: try fixture.tree(.kernelDefaults).tree)?.values == .kernelDefaults)
        #expect(book.recall(kept, tree: try fixture.tree(.kernelDefaults).tree) == .init(values: Self.later, foundAt: 1000))
        book.flush()
        let records = try #require(fixture.saved()).records
        #expect(records.keys.sorted() == [reused, kept])
        #expect(records[reused]?.values == .kernelDefaults && records[reused]?.foundAt ?? 0 > 1000)
        // Restarted: the new namespace's own record now.
        #expect(fixture.book().recall(reused, tree: try fixture.tree(Self.later).tree)?.values == .kernelDefaults)
    }

    /// A record of the inode that another daemon sharing the file added after this book
    /// loaded it is dropped too: the inode is a live namespace's now, under another cookie.
    @Test func aRecordOfTheInodeAddedMeanwhileIsDroppedAtTheWrite() throws {
        let fixture = try Fixture()
        let book = fixture.book()
        let other = Originals.Key(inode: 101, cookie: 3)
        _ = fixture.store.update(boot: fixture.boot) { $0[other] = .init(values: Self.found, foundAt: 1) }
        _ = book.recall(Originals.Key(inode: 101, cookie: 4), tree: try fixture.tree(Self.later).tree)
        book.flush()
        #expect(fixture.saved()?.records.keys.sorted() == [Originals.Key(inode: 101, cookie: 4)])
    }

    /// Without a cookie (0: a kernel before 5.14), a key matches only itself: by inode, as
    /// the first format did, and nothing is dropped for it.
    @Test func withoutACookieARecordMatchesByInodeAndNothingIsDropped() throws {
        let fixture = try Fixture()
        let (unknown, known) = (Originals.Key(inode: 101, cookie: 0), Originals.Key(inode: 101, cookie: 9))
        #expect(fixture.store.save(Originals(boot: fixture.boot, records: [unknown: .init(values: Self.found, foundAt: 1),
                                                                           known: .init(values: Self.later, foundAt: 1)])) == nil)
        let book = fixture.book()
        #expect(book.recall(unknown, tree: try fixture.tree(.kernelDefaults).tree)?.values == Self.found)
        book.flush()
        #expect(fixture.saved()?.records.count == 2)
    }

    /// Real namespaces: one is recorded, ends, and the kernel gives its inode to a new one
    /// (``PrivateNetworkNamespace/ending(rounds:attempts:_:)``). Their cookies differ; a new
    /// book (a restart) finds the new one anew and drops the dead one's record.
    ///
    /// On a busy machine (tests in parallel make namespaces too) another process may take the
    /// freed inode in every round. Then the dead namespace's record is the one a namespace
    /// that ended would have left: the live namespace's inode under another cookie (the kernel
    /// never gives a cookie twice), and the same checks run on it. Either way the daemon's
    /// rule is tested on a real namespace and its real cookie, and no timing decides.
    @Test(.enabled(if: PrivateNetworkNamespace.unavailableReason == nil, "needs root for network namespaces"))
    func aNamespaceGivenADeadOnesInodeIsNotGivenItsOriginals() throws {
        let fixture = try Fixture()
        let tree = try fixture.tree(Self.found).tree
        func key(_ namespace: PrivateNetworkNamespace) throws -> Originals.Key {
            try namespace.run { Originals.Key(inode: NetworkNamespace.current(syscalls: .live) ?? 0, cookie: NetworkNamespace.cookie(syscalls: .live)) }
        }
        let outcome = try PrivateNetworkNamespace.ending { namespace in
            let old = try key(namespace)
            let before = fixture.book()
            #expect(before.recall(old, tree: tree)?.values == Self.found)
            before.flush()
            return old
        }
        let old: Originals.Key, reused: PrivateNetworkNamespace
        if let outcome {
            (old, reused) = (outcome.noted, outcome.reused)
        } else {
            reused = try PrivateNetworkNamespace()
            let live = try key(reused)
            old = Originals.Key(inode: live.inode, cookie: live.cookie &+ 1_000_000)
            #expect(fixture.store.save(Originals(boot: fixture.boot, records: [old: .init(values: Self.found, foundAt: 1)])) == nil)
        }
        #expect(old.cookie != 0, "this kernel has SO_NETNS_COOKIE")
        let new = try key(reused)
        #expect(new.inode == old.inode && new.cookie != old.cookie)
        #expect(fixture.saved()?.records[old]?.values == Self.found)
        let restarted = fixture.book()
        #expect(restarted.recall(new, tree: try fixture.tree(.kernelDefaults).tree)?.values == .kernelDefaults)
        restarted.flush()
        #expect(fixture.saved()?.records[old] == nil, "the dead namespace's record is dropped")
        #expect(fixture.saved()?.records[new]?.values == .kernelDefaults)
    }
}

import Glibc
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// One originals file shared by two daemons (two network namespaces, one runtime directory),
/// in-process: two books or two stores over one temporary directory. Each change is a
/// read-modify-write under the apply lock, so that neither loses the other's entries
/// (issue 32, finding 9).
@Suite("Originals shared by two daemons (in-process)")
struct OriginalsSharedFileTests {
    typealias Fixture = OriginalsBookTests.Fixture
    static let found = OriginalsBookTests.found
    static let later = OriginalsBookTests.later

    /// Two daemons in two network namespaces share the runtime directory: each flushes its
    /// own entry, and one's clean stop forgets only its own (issue 32, finding 9).
    @Test func twoDaemonsSharingTheFileKeepEachOthersEntries() throws {
        let fixture = try Fixture()
        let first = fixture.book()
        let second = fixture.book(OriginalsStore(directory: fixture.directory.path, syscalls: .live))
        _ = first.recall(101, tree: try fixture.tree(Self.found).tree)
        first.flush()
        _ = second.recall(202, tree: try fixture.tree(Self.later).tree)
        second.flush()
        #expect(fixture.savedValues() == [101: Self.found, 202: Self.later])
        first.forget(101)
        first.flush()
        #expect(fixture.savedValues() == [202: Self.later])
        second.forget(202)
        second.flush()
        #expect(access(fixture.store.path, F_OK) != 0, "the last entry out removes the file")
    }

    /// A file that is there but cannot be read now is left as it is, reported, and not
    /// written over: the flush fails (and is tried again) until it can be read.
    @Test func aFileThatCannotBeReadNowIsLeftAsItIsAndNotWrittenOver() throws {
        let fixture = try Fixture()
        #expect(fixture.save([101: Self.found], foundAt: 1) == nil)
        _ = fixture.writes()
        var calls = Syscalls.live
        let realOpen = calls.open.body, path = fixture.store.path
        let full = Shared(true)
        calls.open.body = { file, flags in file == path && full.withLock { $0 } ? .failure(Errno(EMFILE)) : realOpen(file, flags) }
        let book = fixture.book(OriginalsStore(directory: fixture.directory.path, syscalls: calls))
        #expect(fixture.events == ["originals-rejected"])
        #expect(fixture.logs.entries.first.map { "\($0.message)" }?.contains("cannot be read now") == true)
        _ = book.recall(202, tree: try fixture.tree(Self.later).tree)
        book.flush()
        #expect(fixture.writes() == 0)
        #expect(fixture.events == ["originals-rejected", "originals-not-saved"])
        full.withLock { $0 = false }
        book.flush()
        #expect(fixture.savedValues() == [101: Self.found, 202: Self.later])
    }

    /// A change waits for the apply lock: while one store holds it, another's change is not
    /// made (it gives up at once here, its patience being zero) and the file is as the first
    /// left it.
    @Test func aChangeIsMadeOnlyUnderTheApplyLock() throws {
        let fixture = try Fixture()
        let other = OriginalsStore(directory: fixture.directory.path, syscalls: .live, lockPatience: .milliseconds(0))
        var inner: Result<OriginalsStore.Rejection?, OriginalsStore.UpdateFailure>?
        let outer = fixture.store.update(boot: fixture.boot) { entries in
            entries[OriginalsBookTests.key(101)] = Originals.Record(values: Self.found, foundAt: 1)
            inner = other.update(boot: fixture.boot) { $0[OriginalsBookTests.key(202)] = Originals.Record(values: Self.later, foundAt: 1) }
        }
        guard case .success = outer, case .failure(.locked) = inner else {
            Issue.record("the outer change: \(outer); the inner one: \(String(describing: inner))")
            return
        }
        #expect(fixture.savedValues() == [101: Self.found])
    }
}

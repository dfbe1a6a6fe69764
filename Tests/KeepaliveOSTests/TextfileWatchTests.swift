import Foundation
import KeepaliveTestKit
import Testing

/// The test kit's textfile wait: new versions arrive by rename, and are awaited by inotify.
@Suite("Textfile watch (test kit)")
struct TextfileWatchTests {
    /// Writes `text` to `PATH.tmp` and renames it over `path`, as the daemon publishes.
    private func publish(_ text: String, at path: String) throws {
        try TemporaryDirectory.replaceContents(of: path + ".tmp", with: Array(text.utf8))
        try #require(rename(path + ".tmp", path) == 0)
    }

    /// A file written beside it is not the one awaited; the rename over the path is.
    @Test func theNextVersionIsTheOneRenamedOverThePath() throws {
        let directory = try TemporaryDirectory("kt-textfile")
        let path = directory.url("metrics.prom")
        let textfile = try TextfileWatch(path)
        try directory.write("other.prom", "not this one\n")
        try publish("version 1\n", at: path)
        #expect(textfile.next() == "version 1\n")
    }

    /// A version published before the wait began counts when it already holds.
    @Test func aWaitTakesTheFileAsItIsWhenItAlreadyHolds() throws {
        let directory = try TemporaryDirectory("kt-textfile")
        let path = directory.url("metrics.prom")
        try publish("ready\n", at: path)
        let textfile = try TextfileWatch(path)
        #expect(textfile.wait { $0 == "ready\n" } == "ready\n")
    }

    /// Versions published by another thread: the wait re-arms on each rename until one holds.
    @Test func aWaitFollowsEachRenameUntilThePredicateHolds() throws {
        let directory = try TemporaryDirectory("kt-textfile")
        let path = directory.url("metrics.prom")
        let textfile = try TextfileWatch(path)
        let done = DispatchSemaphore(value: 0)
        Thread {
            for version in 1...20 { try? publish("version \(version)\n", at: path) }
            done.signal()
        }.start()
        #expect(textfile.wait { $0 == "version 20\n" } == "version 20\n")
        done.wait()
    }

    /// With no rename, the wait ends at its timeout with `nil`, and `last` says what was read.
    @Test func aWaitThatNeverHoldsEndsWithTheLastVersion() throws {
        let directory = try TemporaryDirectory("kt-textfile")
        let path = try directory.write("metrics.prom", "stale\n")
        let textfile = try TextfileWatch(path)
        #expect(textfile.wait(timeout: 0.05) { $0 == "fresh\n" } == nil)
        #expect(textfile.last == "stale\n")
        #expect(textfile.next(timeout: 0.05) == nil)
    }
}

import Foundation
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// What real inotify events on a temporary config directory mean to the daemon.
@Suite("Config watch (real inotify)")
struct ConfigWatchTests {
    /// A config directory with its watch armed, and everything queued so far assessed.
    final class Fixture {
        let directory: TemporaryDirectory
        let inotify: Inotify
        let watch: ConfigWatch
        let configPath: String

        /// Writes the config, runs `beforeWatch` on its path, then arms the watch.
        init(beforeWatch: (String) throws -> Void = { _ in }) throws {
            directory = try TemporaryDirectory("configwatch")
            configPath = try directory.write("keepalived-tune.conf", "[daemon]\nprofile = server\n")
            try beforeWatch(configPath)
            inotify = try Inotify(syscalls: .live)
            watch = ConfigWatch(inotify: inotify, configPath: configPath,
                                dropInDirectory: configPath + ".d", profileDirectories: [], syscalls: .live)
            watch.arm()
        }

        /// The assessment of every event queued by what was done so far (inotify queues
        /// events before the system call that caused them returns).
        func assess() -> ConfigChange { watch.assess(inotify.drain()).change }
    }

    @Test func aFileRenamedIntoPlaceReloadsAndCannotBeHalfWritten() throws {
        let fixture = try Fixture()
        try fixture.directory.write("keepalived-tune.conf.new", "[daemon]\nprofile = web\n")
        #expect(rename(fixture.directory.url("keepalived-tune.conf.new"), fixture.configPath) == 0)
        let change = fixture.assess()
        #expect(change.finished)
        #expect(change.touched)
        #expect(!change.writtenInPlace, "the temp file's own writes are not the config's")
        #expect(change.writesStarted.isEmpty)
    }

    @Test func aFileWrittenInPlaceIsMarkedAsSuchAndReloadsOnlyWhenClosed() throws {
        let fixture = try Fixture()
        let fd = open(fixture.configPath, O_WRONLY | O_TRUNC | O_CLOEXEC)
        try #require(fd >= 0)
        let half = Array("[daemon]\nprof".utf8)
        _ = half.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let midWrite = fixture.assess()
        #expect(midWrite.writtenInPlace)
        #expect(!midWrite.finished, "a file still open for writing is not reloaded")
        #expect(midWrite.writesStarted.count == 1)
        close(fd)
        let closed = fixture.assess()
        #expect(closed.finished)
        #expect(closed.writtenInPlace)
        #expect(closed.writesEnded == midWrite.writesStarted)
    }

    @Test func unrelatedFilesInTheDirectoryAreIgnored() throws {
        let fixture = try Fixture()
        try fixture.directory.write("notes.txt", "x")
        try fixture.directory.write("other.conf", "x")
        #expect(fixture.assess() == ConfigChange())
    }

    /// Issue 25's flake, on demand. The config was written before the watch was armed, yet
    /// `unrelatedFilesInTheDirectoryAreIgnored` once saw a finished in-place write of it: a
    /// child started by another test at the moment of the write inherited the write
    /// descriptor, and its exit, seconds later, was the file's last close (`IN_CLOSE_WRITE`).
    /// Here a child is handed that descriptor on purpose: its exit reads exactly as the flake
    /// did. (The fix: the test kit's children get nothing they are not given, and every
    /// descriptor the tests open is close-on-exec; `DescriptorHygieneTests`.)
    @Test func aWriteDescriptorAChildHoldsEndsAsAnInPlaceWriteWhenTheChildExits() throws {
        nonisolated(unsafe) var holder: SpawnedProcess?
        let fixture = try Fixture { path in
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            try #require(fd >= 0)
            defer { close(fd) }
            holder = try SpawnedProcess(["sleep", "600"], stdout: .descriptor(fd))
        }
        let child = try #require(holder)
        defer { child.signal(SIGKILL); child.wait() }
        #expect(fixture.assess() == ConfigChange(), "nothing happened since the watch was armed")
        child.signal(SIGKILL)
        child.wait()
        let late = fixture.assess()
        #expect(late.finished && late.touched && late.writtenInPlace)
        #expect(late.writesStarted.isEmpty)
        #expect(late.writesEnded.count == 1, "the flake's signature: a write that ended, never seen to start")
    }
}

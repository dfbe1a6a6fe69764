import Glibc
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// ``ReloadController`` in-process: a real config directory in a temporary directory, a real
/// ``Inotify`` (the controller arms its ``ConfigWatch`` on it), and time as explicit
/// ``Instant``s: the test steps the controller at each deadline it gives, never sleeping.
///
/// inotify queues an event before the system call that caused it returns, so the events of
/// each file operation are all there when the test hands them over. (The controller reads
/// the clock itself for the instant of a read; the instants here start at the clock's now.)
@Suite("Reload controller (real inotify)")
struct ReloadControllerTests {
    static let server = "[daemon]\nprofile = server\n"
    static let web = "[daemon]\nprofile = web\n"

    /// A config directory, the setup over it, and the controller watching it.
    final class Fixture {
        let directory: TemporaryDirectory
        let sysctl: FakeSysctlRoot
        let configPath: String
        let setup: Setup
        let inotify: Inotify
        let reload: ReloadController
        let start = MonotonicClock.now()
        /// RELOADING=1 announcements and reads of the config, as the controller made them.
        private(set) var announcements = 0, reads = 0
        /// Runs right after a read, before the events are drained: a write "during" the read.
        var duringRead: () throws -> Void = {}

        init(config: String = ReloadControllerTests.server) throws {
            directory = try TemporaryDirectory("reload")
            sysctl = try FakeSysctlRoot()
            configPath = try directory.write("keepalived-tune.conf", config)
            setup = Setup(configPath: configPath, profileDirectories: [directory.url("profiles")], sysctlRoot: sysctl.path,
                          sysctlConfRoot: directory.path, runtimeDirectory: directory.url("run"))
            inotify = try Inotify(syscalls: setup.syscalls)
            reload = ReloadController(setup: setup, inotify: inotify)
        }

        /// Hands every queued event to the controller, as the loop does, seen at `now`.
        func observe(at now: Instant) { reload.observe(inotify.drain(), at: now) }

        /// One step of the reload at `now`.
        func step(at now: Instant) -> PolicyLoad? {
            reload.step(at: now, announce: { announcements += 1 }, drain: {
                reads += 1
                do { try duringRead() } catch { Issue.record("the write during the read failed: \(error)") }
                observe(at: now)
            })
        }

        /// Steps at each deadline the controller gives, from `now`, until it hands out a load
        /// or has nothing pending; at most `limit` steps.
        func settle(from now: Instant, limit: Int = 10) -> PolicyLoad? {
            var now = now
            for _ in 0..<limit {
                guard let due = reload.deadline(at: now) else { return nil }
                now = max(now, due)
                if let load = step(at: now) { return load }
            }
            Issue.record("the reload did not settle in \(limit) steps")
            return nil
        }

        /// Writes `text` to a temp file beside the config and renames it over the config.
        func renameIntoPlace(_ text: String) throws {
            try ReloadControllerTests.renameIntoPlace(text, in: directory)
        }

        /// The config open for writing in place, truncated.
        func openInPlace() throws -> Int32 {
            let fd = open(configPath, O_WRONLY | O_TRUNC | O_CLOEXEC)
            try #require(fd >= 0)
            return fd
        }
    }

    /// Saves `text` as an editor does that renames: a temp file in `directory`, renamed over
    /// its `keepalived-tune.conf`.
    static func renameIntoPlace(_ text: String, in directory: TemporaryDirectory) throws {
        try directory.write("keepalived-tune.conf.new", text)
        #expect(rename(directory.url("keepalived-tune.conf.new"), directory.url("keepalived-tune.conf")) == 0)
    }

    func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    @Test func aRequestLeadsToOneReadAndOneAnnouncement() throws {
        let fixture = try Fixture()
        let t = fixture.start
        #expect(fixture.reload.isIdle && fixture.reload.deadline(at: t) == nil)
        #expect(fixture.step(at: t) == nil && fixture.reads == 0, "nothing was asked for")
        fixture.reload.requested(at: t)
        #expect(!fixture.reload.isIdle)
        #expect(fixture.reload.deadline(at: t) == t, "a request is read at once")
        let load = try #require(fixture.step(at: t))
        #expect(load.policy?.profile.name.rawValue == "server")
        #expect(load.configFiles == [fixture.configPath])
        #expect((fixture.announcements, fixture.reads) == (1, 1))
        #expect(fixture.reload.isIdle && fixture.reload.deadline(at: t) == nil)
        #expect(fixture.step(at: t + .seconds(1)) == nil && fixture.reads == 1)
    }

    @Test func repeatedRequestsAndEditsCollapseIntoOneReload() throws {
        let fixture = try Fixture()
        let t = fixture.start
        for offset in 0..<3 { fixture.reload.requested(at: t + .milliseconds(offset)) }
        try fixture.renameIntoPlace(Self.web)
        fixture.observe(at: t + .milliseconds(3))
        fixture.reload.requested(at: t + .milliseconds(4))
        let load = try #require(fixture.settle(from: t + .milliseconds(4)))
        #expect(load.policy?.profile.name.rawValue == "web")
        #expect((fixture.announcements, fixture.reads) == (1, 1))
        #expect(fixture.reload.isIdle)
    }

    @Test func aConfigRenamedIntoPlaceIsReadAndHandedOutAtOnce() throws {
        let fixture = try Fixture()
        let t = fixture.start
        try fixture.renameIntoPlace(Self.web)
        fixture.observe(at: t)
        #expect(!fixture.reload.isIdle && fixture.reload.deadline(at: t) == t)
        let load = try #require(fixture.step(at: t), "a file renamed whole into place waits for no quiet period")
        #expect(load.policy?.profile.name.rawValue == "web")
        #expect((fixture.announcements, fixture.reads) == (1, 1))
    }

    @Test func aConfigWrittenInPlaceIsNotReadUntilItIsClosed() throws {
        let fixture = try Fixture()
        let t = fixture.start
        let fd = try fixture.openInPlace()
        write(fd, "[daemon]\nprof")
        fixture.observe(at: t)
        #expect(fixture.reload.isIdle, "a write in progress is not a reason to reload")
        // A SIGHUP meanwhile waits for the writer, for at most the write grace.
        fixture.reload.requested(at: t)
        #expect(fixture.reload.deadline(at: t) == t + ReloadGate<PolicyLoad>.writeGrace)
        #expect(fixture.step(at: t) == nil)
        #expect(fixture.step(at: t + .seconds(1)) == nil)
        #expect(fixture.reads == 0, "the file was read while open for writing")
        write(fd, "ile = web\n")
        close(fd)
        fixture.observe(at: t + .seconds(1))
        #expect(fixture.reload.deadline(at: t + .seconds(1)) == t + .seconds(1), "closed: read at once")
        let load = try #require(fixture.settle(from: t + .seconds(1)))
        #expect(load.policy?.profile.name.rawValue == "web")
        #expect(load.diagnostics.isEmpty)
        #expect(fixture.announcements == 1)
    }

    @Test func aWriterThatNeverClosesHoldsAReloadForTheWriteGraceOnly() throws {
        let fixture = try Fixture()
        let t = fixture.start
        let fd = try fixture.openInPlace()
        defer { close(fd) }
        write(fd, "[daemon]\nprofile = web\n")
        fixture.reload.requested(at: t)
        fixture.observe(at: t)
        #expect(fixture.step(at: t + .milliseconds(1999)) == nil && fixture.reads == 0)
        let load = try #require(fixture.settle(from: t + ReloadGate<PolicyLoad>.writeGrace))
        #expect(load.policy?.profile.name.rawValue == "web", "taken as it is: validation decides")
    }

    @Test func aReadThatAWriteDisturbsIsThrownAwayAndDoneAgain() throws {
        let fixture = try Fixture()
        let t = fixture.start
        fixture.duringRead = { [fixture] in
            fixture.duringRead = {}
            try fixture.renameIntoPlace(ReloadControllerTests.web)
        }
        fixture.reload.requested(at: t)
        #expect(fixture.step(at: t) == nil, "what was read before the rename is stale")
        #expect(fixture.reads == 1 && !fixture.reload.isIdle)
        let load = try #require(fixture.settle(from: t))
        #expect(load.policy?.profile.name.rawValue == "web")
        #expect((fixture.announcements, fixture.reads) == (1, 2), "one reload, announced once, read twice")
    }

    /// The controller judges nothing: a config that names no profile comes out with its
    /// diagnostics, and the files of the last good load stay remembered.
    @Test func aRejectedConfigIsHandedOutWithWhereItIsWrong() throws {
        let fixture = try Fixture()
        let t = fixture.start
        fixture.reload.remember(fixture.setup.loadPolicy())
        try fixture.renameIntoPlace("[daemon]\nprofile = no-such-profile\n")
        fixture.observe(at: t)
        let load = try #require(fixture.settle(from: t))
        #expect(load.policy == nil)
        let error = try #require(load.diagnostics.errors.first)
        #expect(error.code == .unknownProfile)
        #expect(error.location == SourceLocation(file: fixture.configPath, line: 2))
        #expect(fixture.reload.configFiles == [fixture.configPath])
        #expect(fixture.reload.nonEmptyFiles == [fixture.configPath])
    }

    @Test func aDropInDirectoryMadeAfterStartIsWatched() throws {
        let fixture = try Fixture()
        let t = fixture.start
        #expect(mkdir(fixture.setup.dropInDirectory, 0o755) == 0)
        fixture.observe(at: t)
        #expect(fixture.settle(from: t)?.configFiles == [fixture.configPath], "the new directory is a reload")
        let dropIn = "keepalived-tune.conf.d/10-web.conf"
        try fixture.directory.write(dropIn + ".tmp", "[daemon]\nprofile = web\n")
        #expect(rename(fixture.directory.url(dropIn + ".tmp"), fixture.directory.url(dropIn)) == 0)
        fixture.observe(at: t + .seconds(1))
        #expect(!fixture.reload.isIdle, "an event in the new directory was missed")
        let load = try #require(fixture.settle(from: t + .seconds(1)))
        #expect(load.configFiles == [fixture.configPath, fixture.directory.url(dropIn)])
        #expect(load.policy?.profile.name.rawValue == "web")
        #expect(fixture.reads == 2)
    }
}

import CTestSupport
import Glibc
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import Testing

/// The loop over parts, in-process, with parts of the test's own: a new event source is one
/// more part, a part sees what earlier parts did in the same turn, and a part whose
/// descriptors change is polled on its new ones.
@Suite("Part loop (in-process)")
struct PartLoopTests {
    /// A pipe the test writes to; its read end is what a part waits on.
    final class Channel {
        let read: Int32, write: Int32
        init() throws {
            var ends: [Int32] = [-1, -1]
            try #require(kt_pipe_cloexec(&ends) == 0)
            (read, write) = (ends[0], ends[1])
        }
        deinit { close(read); close(write) }
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { Glibc.write(write, $0.baseAddress, $0.count) } }
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
            return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
        }
    }

    /// An event source such as a ring buffer: woken by its descriptor, it stops the loop
    /// when it reads "stop". A `pending` channel is taken at its next turn (then it says ``Activity/rewired``).
    final class SourcePart: LoopPart {
        var channel: Channel?
        var pending: Channel?
        var received: [String] = []
        init(_ channel: Channel?) { self.channel = channel }
        var wakes: [Wake] { channel.map { [Wake(fd: $0.read)] } ?? [] }
        func deadline(at now: Instant) -> Instant { pending == nil ? .never : now }
        func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
            if let next = pending {
                channel = next
                pending = nil
                return .rewired
            }
            guard let channel, ready.isReady(channel.read) else { return [] }
            let text = channel.receive()
            received.append(text)
            return text.contains("stop") ? [.ranCode, .stop] : .ranCode
        }
    }

    /// Records the activity of the parts before it, turn by turn.
    final class Observer: LoopPart {
        var turns: [Activity] = []
        func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
            turns.append(turn)
            return []
        }
    }

    /// Due once, at once: says it changed what the status shows.
    final class OnceDue: LoopPart {
        var due = true
        func deadline(at now: Instant) -> Instant { due ? now : .never }
        func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
            guard due else { return [] }
            due = false
            return .changedState
        }
    }

    func loop(_ parts: [any LoopPart]) -> PartLoop {
        PartLoop(parts, codePages: CodePages(syscalls: .live), syscalls: .live)
    }

    @Test func aNewEventSourceIsOneMorePartAndCanStopTheLoop() throws {
        let channel = try Channel()
        let source = SourcePart(channel), observer = Observer()
        channel.send("event")
        channel.send(" stop")
        var stopped = 0
        let status = loop([source, observer]).run { stopped += 1; return 7 }
        #expect(status == 7 && stopped == 1)
        #expect(source.received.joined().contains("stop"))
        #expect(!observer.turns.contains { $0.contains(.stop) }, "the turn ends at the part that says stop")
    }

    @Test func aPartSeesWhatTheEarlierPartsOfItsTurnDid() throws {
        let channel = try Channel()
        let once = OnceDue(), observer = Observer(), source = SourcePart(channel)
        let parts: [any LoopPart] = [once, observer, source]
        // The first turn (due at once) changes state; the observer sees it in that turn only.
        once.due = true
        channel.send("stop")
        _ = loop(parts).run { 0 }
        #expect(observer.turns.first == .changedState)
        #expect(observer.turns.dropFirst().allSatisfy { !$0.contains(.changedState) })
    }

    @Test func aPartWhoseDescriptorsChangeIsPolledOnTheNewOnes() throws {
        let later = try Channel()
        let source = SourcePart(nil)
        source.pending = later
        later.send("stop")
        let status = loop([source]).run { 3 }
        #expect(status == 3)
        #expect(source.received == ["stop"], "woken by a descriptor it had not at the start")
    }
}

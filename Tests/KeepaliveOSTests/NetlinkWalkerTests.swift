import Foundation
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The one netlink walker, fed the dumps a real kernel gave (Tests/Fixtures/sockdiag) and
/// those dumps altered: another request's sequence number, another sender, a message cut
/// short, a datagram cut by the buffer, the kernel's error, an interrupted dump.
@Suite("Netlink walker")
struct NetlinkWalkerTests {
    /// What a walk of a reply saw.
    struct Walked: Equatable {
        var done = false
        var types: [UInt16] = []
        var foreign = 0
        var stray = 0
    }

    /// Walks `reply` as one datagram of `length` (its own, unless a cut is simulated) from
    /// `sender`, expecting `sequence`; the types of the messages handed on.
    static func walk(_ reply: [UInt8], sequence: UInt32? = SockDiagTests.recordedSequence, sender: UInt32 = 0,
                     length: Int? = nil) -> Result<Walked, NetlinkFailure> {
        var walker = NetlinkWalker(sequence: sequence)
        var walked = Walked()
        let outcome = reply.withUnsafeBytes { raw in
            Result { () throws(NetlinkFailure) -> Bool in
                try walker.walk(raw, length: length ?? raw.count, sender: sender) { walked.types.append($0.type) }
            }
        }
        walked.foreign = walker.foreignDatagrams
        walked.stray = walker.strayMessages
        return outcome.map { done in
            walked.done = done
            return walked
        }
    }

    /// Where each message of a reply starts (as recorded: aligned, back to back).
    static func offsets(_ reply: [UInt8]) -> [Int] {
        var offsets: [Int] = [], offset = 0
        while offset + 16 <= reply.count {
            offsets.append(offset)
            let length = reply.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
            offset += (length + 3) & ~3
        }
        return offsets
    }

    /// `reply` with a host-order integer written at `offset`.
    static func patched<T: FixedWidthInteger>(_ reply: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
        var bytes = reply
        withUnsafeBytes(of: value) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
        return bytes
    }

    static let socketMessage: UInt16 = 20   // SOCK_DIAG_BY_FAMILY

    @Test func aRecordedDumpIsItsSocketMessagesThenDone() throws {
        let reply = try SockDiagTests.fixture("inet.bin")
        let walked = try Self.walk(reply).get()
        #expect(walked.done)
        #expect(walked.types == [UInt16](repeating: Self.socketMessage, count: Self.offsets(reply).count - 1), "every message but NLMSG_DONE")
        #expect(walked.foreign == 0 && walked.stray == 0)
        let v6 = try Self.walk(SockDiagTests.fixture("inet6.bin")).get()
        #expect(v6.done && !v6.types.isEmpty)
    }

    @Test func messagesOfAnotherSequenceNumberArePassedOver() throws {
        let reply = try SockDiagTests.fixture("inet.bin")
        let count = Self.offsets(reply).count
        let other = try Self.walk(reply, sequence: 8).get()
        #expect(!other.done && other.types.isEmpty && other.stray == count, "none of it answers request 8")
        #expect(SockDiag.parse(reply, sequence: 8) == .failure(.truncated))
        // One socket message answering another request: left out, the rest stands.
        let oneStray = Self.patched(reply, at: Self.offsets(reply)[1] + 8, UInt32(99))
        let walked = try Self.walk(oneStray).get()
        #expect(walked.done && walked.stray == 1 && walked.types.count == count - 2)
        let all = try SockDiag.parse(reply, sequence: 7).get(), fewer = try SockDiag.parse(oneStray, sequence: 7).get()
        #expect(fewer.count == all.count - 1)
        // Multicast events carry no request's number: any is taken.
        #expect(try Self.walk(oneStray, sequence: nil).get().stray == 0)
    }

    @Test func aDatagramFromAnotherProcessIsPassedOverWhole() throws {
        let reply = try SockDiagTests.fixture("inet.bin")
        let walked = try Self.walk(reply, sender: 4242).get()
        #expect(walked == Walked(done: false, types: [], foreign: 1, stray: 0), "only the kernel (port 0) answers")
    }

    @Test func aMessageCutShortOrADatagramCutByTheBufferIsMalformed() throws {
        let reply = try SockDiagTests.fixture("inet.bin")
        let offsets = Self.offsets(reply)
        // The last socket message cut in the middle: its length overruns the datagram.
        let cut = Array(reply[..<(offsets[offsets.count - 2] + 40)])
        guard case .failure(.malformed) = Self.walk(cut) else { Issue.record("a cut message is malformed"); return }
        // A length below the header's, and a few stray bytes after the last message.
        guard case .failure(.malformed) = Self.walk(Self.patched(reply, at: offsets[2], UInt32(8))) else { Issue.record("length 8"); return }
        guard case .failure(.malformed) = Self.walk(Array(reply.dropLast(20)) + [1, 2, 3]) else { Issue.record("stray bytes"); return }
        // recvfrom(2) with MSG_TRUNC said the datagram was longer than the buffer.
        guard case .failure(.malformed) = Self.walk(reply, length: reply.count + 512) else { Issue.record("MSG_TRUNC"); return }
        // A socket message too short for struct inet_diag_msg.
        let short = NetlinkMessage.bytes(type: Self.socketMessage, flags: 2, sequence: 7, payload: [UInt8](repeating: 0, count: 40))
        guard case .failure(.malformed) = SockDiag.parse(short + Array(reply.suffix(20)), sequence: 7) else { Issue.record("short socket"); return }
    }

    @Test func theKernelsErrorEndsTheWalk() throws {
        let reply = try SockDiagTests.fixture("inet.bin")
        let sockets = Array(reply.dropLast(20))
        let error = NetlinkMessage.bytes(type: 2, flags: 0, sequence: 7, payload: withUnsafeBytes(of: Int32(-EACCES)) { Array($0) } + Array(reply[0..<16]))
        #expect(Self.walk(sockets + error) == .failure(.kernel(EACCES)))
        #expect(SockDiag.parse(sockets + error, sequence: 7) == .failure(.kernel(EACCES)))
        // NLMSG_DONE may carry the dump's own error (as rtnl_dump_done() reads it).
        let doneWithError = Self.patched(reply, at: reply.count - 4, Int32(-ENOMEM))
        #expect(Self.walk(doneWithError) == .failure(.kernel(ENOMEM)))
        // An error from another request's answer is not this dump's.
        #expect(try Self.walk(sockets + Self.patched(error, at: 8, UInt32(3)) + Array(reply.suffix(20))).get().done)
    }

    @Test func anInterruptedDumpIsAFailureToDumpAgain() throws {
        let reply = try SockDiagTests.fixture("inet.bin")
        let offsets = Self.offsets(reply)
        let flagged = Self.patched(reply, at: offsets[3] + 6, UInt16(0x2 | 0x10))   // NLM_F_MULTI | NLM_F_DUMP_INTR
        #expect(Self.walk(flagged) == .failure(.interrupted))
        #expect(SockDiag.parse(flagged, sequence: 7) == .failure(.interrupted))
    }

    @Test func attributesAreWalkedAndAnOverrunIsCaught() {
        // Two attributes, the first padded to four bytes: (1, [9]) and (2, [1, 2, 3, 4]).
        let bytes: [UInt8] = [5, 0, 1, 0, 9, 0, 0, 0, 8, 0, 2, 0, 1, 2, 3, 4]
        var seen: [(UInt16, [UInt8])] = []
        #expect(bytes.withUnsafeBytes { NetlinkMessage.attributes(in: $0) { seen.append(($0, Array($1))) } })
        #expect(seen.map(\.0) == [1, 2] && seen.map(\.1) == [[9], [1, 2, 3, 4]])
        var overrun = bytes
        overrun[8] = 40
        #expect(!overrun.withUnsafeBytes { NetlinkMessage.attributes(in: $0) { _, _ in } })
    }
}

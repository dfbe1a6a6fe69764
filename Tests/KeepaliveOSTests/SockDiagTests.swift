import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The sock_diag parser against dumps a real kernel gave (Tests/Fixtures/sockdiag, made by
/// its record.py in a private namespace), and the reply's error paths.
@Suite("sock_diag replies")
struct SockDiagTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: FileList.packageRoot + "/Tests/Fixtures/sockdiag/\(name)")))
    }

    /// The sequence number record.py's requests carried.
    static let recordedSequence: UInt32 = 7

    static func sockets(_ name: String) throws -> [DiagSocket] {
        try SockDiag.parse(fixture(name), sequence: recordedSequence).get()
    }

    @Test func everyRecordedConnectionIsThereWithItsStateAndTimer() throws {
        let sockets = try Self.sockets("inet.bin")
        let sysctls = ReapingSysctls()
        func verdict(_ socket: DiagSocket) -> Reaping.Reaper { Reaping.verdict(socket.record, sysctls: sysctls).reapedBy }
        let toServer = sockets.filter { $0.remote == "127.0.0.1:41000" }
        let plain = try #require(toServer.first { $0.record.state == .established && $0.record.timer == .none })
        #expect(plain.record.keepalive == .inferred(on: false))
        #expect(verdict(plain) == .never)
        #expect(plain.record.inode != 0)
        let keepalive = try #require(toServer.first { $0.record.state == .established && $0.record.timer == .keepalive })
        #expect(keepalive.record.keepalive == .inferred(on: true))
        #expect(verdict(keepalive) == .keepalive)
        #expect(keepalive.record.expiresMilliseconds == 7_199_748, "idiag_expires as recorded in the fixture")
        let closed = try #require(toServer.first { $0.record.state == .finWait2 })
        #expect(closed.record.orphaned)
        #expect(verdict(closed) == .finTimeout)
        let closeWait = try #require(sockets.first { $0.local == "127.0.0.1:41000" && $0.record.state == .closeWait })
        #expect(verdict(closeWait) == .never)
        let timeWait = try #require(sockets.first { $0.local == "127.0.0.1:41002" && $0.record.state == .timeWait })
        #expect(verdict(timeWait) == .timeWait)
        #expect(sockets.allSatisfy { $0.record.idleMilliseconds != nil || $0.record.timer == .timeWait }, "tcp_info came with each full socket")
    }

    @Test func ipv6AddressesAreBracketed() throws {
        let sockets = try Self.sockets("inet6.bin")
        #expect(sockets.contains { $0.local == "[::1]:41001" && $0.record.state == .established })
        #expect(sockets.contains { $0.remote == "[::1]:41001" })
    }

    @Test func theRequestAsksForTCPInEveryStateButListenWithTCPInfo() {
        let request = SockDiag.request(family: AF_INET6, sequence: 7)
        #expect(request.count == 72)
        #expect(request[4] == 20 && request[6] == 0x01 && request[7] == 0x03, "SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST|NLM_F_DUMP")
        #expect(request[16] == UInt8(AF_INET6) && request[17] == UInt8(IPPROTO_TCP) && request[18] == 2)
        #expect(Array(request[20..<24]) == [0xFF, 0x0B, 0, 0], "every state, 1 << TCP_STATE, but LISTEN (bit 10)")
    }

    /// A netlink message of the recorded dump's sequence: header and payload, host order.
    static func message(type: UInt16, flags: UInt16 = 2, _ payload: [UInt8] = []) -> [UInt8] {
        NetlinkMessage.bytes(type: type, flags: flags, sequence: recordedSequence, payload: payload)
    }

    @Test func errorsInterruptionsAndTruncationAreFailures() throws {
        let errno = withUnsafeBytes(of: Int32(-EPERM)) { Array($0) }
        let sequence = Self.recordedSequence
        #expect(SockDiag.parse(Self.message(type: 2, errno + [UInt8](repeating: 0, count: 16)), sequence: sequence) == .failure(.kernel(EPERM)))
        let whole = try Self.fixture("inet.bin")
        #expect(SockDiag.parse(Array(whole.dropLast(20)), sequence: sequence) == .failure(.truncated))
        #expect(SockDiag.parse(Self.message(type: 20, flags: 0x12, [UInt8](repeating: 0, count: 72)), sequence: sequence) == .failure(.interrupted))
        #expect(SockDiag.parse(Self.message(type: 3), sequence: sequence) == .success([]))
    }
}

/// The real dump, in a private network namespace the test makes: the connections it opens
/// there are found, with their states, and nothing of the host's is seen.
@Suite("sock_diag dump (private namespace)",
       .enabled(if: PrivateNetworkNamespace.unavailableReason == nil, Comment(rawValue: PrivateNetworkNamespace.unavailableReason ?? "")))
struct SockDiagDumpTests {
    @Test func theDumpSeesTheNamespacesOwnConnections() throws {
        let namespace = try PrivateNetworkNamespace()
        let up = try namespace.run { try ChildProcess.run(["ip", "link", "set", "lo", "up"]) }
        try #require(up.status == 0, "\(up)")
        let trace = SyscallTrace()
        let found = try namespace.run { () throws -> [DiagSocket] in
            let connection = try LoopbackConnection(port: 41_500)
            defer { connection.close() }
            return try SockDiag.dump(family: AF_INET, syscalls: Syscalls.live.recording(into: trace)).get()
        }
        let names = trace.names
        #expect(names.first == "socket" && names.dropFirst().first == "send" && names.last == "close", "through the seam: \(names)")
        #expect(Set(names.dropFirst(2).dropLast()) == ["recvfrom"], "\(names)")
        #expect(found.contains { $0.local == "127.0.0.1:41500" && $0.record.state == .established && $0.record.inode != 0 }, "\(found)")
        #expect(found.contains { $0.remote == "127.0.0.1:41500" && $0.record.state == .established })
        #expect(found.allSatisfy { $0.local.hasPrefix("127.0.0.1:") }, "only this namespace's sockets: \(found.map(\.local))")
        #expect(!found.contains { $0.record.state == .listen })
    }
}

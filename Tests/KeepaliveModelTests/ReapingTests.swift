import KeepaliveModel
import Testing

/// What reaps a connection whose peer is gone, class by class (the kernel's rules as
/// connections.md measured them), in microseconds.
@Suite("Reaping verdicts (pure)")
struct ReapingTests {
    static let sysctls = ReapingSysctls(keepalive: KeepaliveValues(time: 1800, intvl: 30, probes: 3))

    static let rows: [(String, SocketRecord, Reaping.Reaper, Int?)] = [
        ("idle, no SO_KEEPALIVE", SocketRecord(state: .established, idleMilliseconds: 600_000, keepalive: .socket(on: false)), .never, nil),
        ("idle, keepalive on: idle left + intvl × probes",
         SocketRecord(state: .established, timer: .keepalive, idleMilliseconds: 600_000, keepalive: .socket(on: true)), .keepalive, 1200 + 90),
        ("keepalive inferred from the timer",
         SocketRecord(state: .established, timer: .keepalive, idleMilliseconds: 0), .keepalive, 1890),
        ("no timer armed: keepalive inferred off", SocketRecord(state: .established, idleMilliseconds: 5_000), .never, nil),
        ("its own TCP_KEEPIDLE wins",
         SocketRecord(state: .established, timer: .keepalive, idleMilliseconds: 100_000, keepalive: .socket(on: true),
                      options: .init(idle: 300)), .keepalive, 200 + 90),
        ("TCP_USER_TIMEOUT bounds keepalive",
         SocketRecord(state: .established, timer: .keepalive, keepalive: .socket(on: true),
                      options: .init(idle: 10, interval: 5, count: 100, userTimeoutMilliseconds: 60_000)), .keepalive, 60),
        ("CLOSE-WAIT, even with keepalive", SocketRecord(state: .closeWait, keepalive: .socket(on: true)), .never, nil),
        ("unacknowledged data: tcp_retries2 15 is 924.6 s",
         SocketRecord(state: .established, timer: .retransmit, retransmits: 3, unacknowledged: 2), .retransmission, 925),
        ("unacknowledged data with TCP_USER_TIMEOUT",
         SocketRecord(state: .established, timer: .retransmit, unacknowledged: 1, options: .init(userTimeoutMilliseconds: 30_000)),
         .retransmission, 30),
        ("zero window", SocketRecord(state: .established, timer: .zeroWindowProbe), .retransmission, 925),
        ("orphaned FIN-WAIT-2", SocketRecord(state: .finWait2, inode: 0), .finTimeout, 60),
        ("orphaned FIN-WAIT-2 as a timewait sock", SocketRecord(state: .finWait2, timer: .timeWait, expiresMilliseconds: 41_200, inode: 0),
         .finTimeout, 42),
        ("orphaned FIN-WAIT-2 on sk_timer is not keepalive", SocketRecord(state: .finWait2, timer: .keepalive, expiresMilliseconds: 5_000, inode: 0),
         .finTimeout, 65),
        ("FIN-WAIT-2 after shutdown(SHUT_WR), no keepalive", SocketRecord(state: .finWait2, keepalive: .socket(on: false)), .never, nil),
        ("TIME-WAIT", SocketRecord(state: .timeWait, timer: .timeWait, expiresMilliseconds: 59_001, inode: 0), .timeWait, 60),
        ("SYN-SENT: 6 SYN retries are 127 s", SocketRecord(state: .synSent, timer: .retransmit), .retransmission, 127),
        ("LAST-ACK: our FIN unacknowledged", SocketRecord(state: .lastAck, timer: .retransmit), .retransmission, 925),
        ("keepalive hidden by a retransmit timer", SocketRecord(state: .established, timer: .retransmit), .retransmission, 925),
    ]

    @Test(arguments: rows.indices)
    func verdict(_ index: Int) {
        let (name, record, reaper, within) = Self.rows[index]
        let verdict = Reaping.verdict(record, sysctls: Self.sysctls)
        #expect(verdict.reapedBy == reaper, "\(name): \(verdict)")
        #expect(verdict.withinSeconds == within, "\(name): \(verdict)")
        #expect(!verdict.reason.isEmpty)
    }

    @Test func reasonsSayWhyNever() {
        #expect(Reaping.verdict(Self.rows[0].1, sysctls: Self.sysctls).reason == "the application never enabled keepalive")
        #expect(Reaping.verdict(SocketRecord(state: .closeWait), sysctls: Self.sysctls).reason == "the peer closed; the application has not")
    }

    @Test(arguments: [(15, 200, 925), (8, 200, 103), (9, 200, 205), (0, 200, 1), (6, 1000, 127), (5, 1000, 63)])
    func retransmissionTimeoutsMatchTheKernelsModel(retries: Int, base: Int, seconds: Int) {
        #expect(Reaping.retransmissionSeconds(retries: retries, baseMilliseconds: base) == seconds)
    }
}

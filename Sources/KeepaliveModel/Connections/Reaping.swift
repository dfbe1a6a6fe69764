/// What will reap a TCP connection whose peer is gone, and within how long: the kernel's
/// rules (`net/ipv4/tcp_timer.c`: `tcp_keepalive_timer`, `tcp_write_timeout`, `tcp_fin_time`)
/// as pure logic over a ``SocketRecord`` and its namespace's sysctls.
public enum Reaping {
    /// The mechanism that reaps a connection.
    public enum Reaper: String, Sendable, Hashable, CaseIterable {
        case keepalive
        case retransmission
        case finTimeout = "fin-timeout"
        case timeWait = "time-wait"
        case never
    }

    /// The verdict on one connection.
    public struct Verdict: Sendable, Hashable {
        public let reapedBy: Reaper
        /// Seconds until the kernel drops it at the latest if the peer is gone; `nil` for never.
        public let withinSeconds: Int?
        /// One sentence for people.
        public let reason: String

        public init(_ reapedBy: Reaper, within seconds: Int?, _ reason: String) {
            self.reapedBy = reapedBy
            withinSeconds = seconds
            self.reason = reason
        }
    }

    /// The verdict on `record`, in a namespace with these sysctls.
    public static func verdict(_ record: SocketRecord, sysctls: ReapingSysctls) -> Verdict {
        if record.state == .timeWait || (record.timer == .timeWait && record.state != .finWait2) {
            return Verdict(.timeWait, within: seconds(record.expiresMilliseconds), "TIME-WAIT ends on its own after 60 s")
        }
        switch record.state {
        case .closeWait:
            return Verdict(.never, within: nil, "the peer closed; the application has not")
        case .listen:
            return Verdict(.never, within: nil, "a listening socket")
        case .close:
            return Verdict(.never, within: nil, "closed, but not yet released by its owner")
        case .synSent:
            return Verdict(.retransmission, within: retransmissionSeconds(retries: sysctls.synRetries, baseMilliseconds: 1000),
                           "its SYN is retransmitted \(sysctls.synRetries) times (tcp_syn_retries)")
        case .synReceived:
            return Verdict(.retransmission, within: retransmissionSeconds(retries: sysctls.synackRetries, baseMilliseconds: 1000),
                           "its SYN-ACK is retransmitted \(sysctls.synackRetries) times (tcp_synack_retries)")
        case .finWait2 where record.orphaned || record.timer == .timeWait:
            // A timewait sock's timer is what is left; with tcp_fin_timeout over 60 s the kernel
            // first waits on sk_timer (timer 2), then keeps a timewait sock for up to 60 s more.
            let left = switch record.timer {
            case .timeWait: seconds(record.expiresMilliseconds)
            case .keepalive: seconds(record.expiresMilliseconds) + min(sysctls.finTimeout, 60)
            default: sysctls.finTimeout
            }
            return Verdict(.finTimeout, within: left, "the application closed it; FIN-WAIT-2 lasts tcp_fin_timeout (\(sysctls.finTimeout) s)")
        default:
            break
        }
        if record.timer == .retransmit || record.timer == .zeroWindowProbe || record.unacknowledged > 0
            || [.finWait1, .closing, .lastAck].contains(record.state) {
            if let timeout = record.options.userTimeoutMilliseconds, timeout > 0 {
                return Verdict(.retransmission, within: seconds(timeout), "unacknowledged data; TCP_USER_TIMEOUT is \(seconds(timeout)) s")
            }
            let what = record.timer == .zeroWindowProbe ? "the peer's window is zero" : "unacknowledged data"
            return Verdict(.retransmission, within: retransmissionSeconds(retries: sysctls.retries2),
                           "\(what); retransmissions give up after tcp_retries2 (\(sysctls.retries2))")
        }
        // ESTABLISHED and idle, or FIN-WAIT-2 after shutdown(SHUT_WR): keepalive alone.
        let keepalive = record.keepalive == .unknown ? record.inferredKeepalive : record.keepalive
        switch keepalive {
        case .socket(on: false), .inferred(on: false):
            let reason = record.state == .finWait2
                ? "half-closed by the application; only keepalive would reap it, and it is off"
                : "the application never enabled keepalive"
            return Verdict(.never, within: nil, reason)
        case .unknown:
            return Verdict(.never, within: nil, "keepalive state unknown; if it is off, nothing reaps it")
        case .socket(on: true), .inferred(on: true):
            return keepaliveVerdict(record, sysctls: sysctls.keepalive)
        }
    }

    /// Keepalive: the idle time left before the first probe, then `intvl` per probe; the
    /// socket's own TCP_KEEP* win over the namespace's sysctls.
    static func keepaliveVerdict(_ record: SocketRecord, sysctls: KeepaliveValues) -> Verdict {
        let time = record.options.idle ?? sysctls.time
        let intvl = record.options.interval ?? sysctls.intvl
        let count = record.options.count ?? sysctls.probes
        let own = record.options.idle != nil || record.options.interval != nil || record.options.count != nil
        let idle = (record.idleMilliseconds ?? 0) / 1000
        var deadline = time + intvl * count   // after the last data received
        if let timeout = record.options.userTimeoutMilliseconds, timeout > 0 {
            deadline = max(time + intvl, seconds(timeout))
        }
        let source = own ? "its own keepalive settings" : "the namespace's keepalive sysctls"
        return Verdict(.keepalive, within: max(deadline - idle, 0), "keepalive is on: \(time)/\(intvl)/\(count) from \(source)")
    }

    /// Seconds until a connection retransmitting with exponential back-off from `baseMilliseconds`
    /// (capped at TCP_RTO_MAX, 120 s) gives up after `retries` retransmissions, as the kernel's
    /// `tcp_model_timeout` computes it: 924.6 s for tcp_retries2 = 15, 127 s for 6 SYN retries.
    public static func retransmissionSeconds(retries: Int, baseMilliseconds: Int = 200) -> Int {
        let maximum = 120_000
        var threshold = 0
        while (baseMilliseconds << (threshold + 1)) <= maximum { threshold += 1 }
        let milliseconds = retries <= threshold
            ? ((2 << retries) - 1) * baseMilliseconds
            : ((2 << threshold) - 1) * baseMilliseconds + (retries - threshold) * maximum
        return seconds(milliseconds)
    }

    /// Milliseconds as whole seconds, rounded up.
    static func seconds(_ milliseconds: Int) -> Int { (max(milliseconds, 0) + 999) / 1000 }
}

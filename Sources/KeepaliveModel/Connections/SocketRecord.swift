/// One TCP socket as the kernel's sock_diag dump shows it (`struct inet_diag_msg` plus the
/// parts of `struct tcp_info` the verdict needs), with what is known of its keepalive.
///
/// A plain value: the netlink reader fills it, the verdict logic (``Reaping``) judges it,
/// and tests build it by hand.
public struct SocketRecord: Sendable, Hashable {
    /// The TCP states, numbered as the kernel numbers them (`include/net/tcp_states.h`).
    public enum State: UInt8, Sendable, Hashable, CaseIterable {
        case established = 1, synSent, synReceived, finWait1, finWait2, timeWait, close, closeWait, lastAck, listen, closing

        /// `ESTAB`-style names as `ss` prints them, for people.
        public var name: String {
            switch self {
            case .established: "ESTABLISHED"
            case .synSent: "SYN-SENT"
            case .synReceived: "SYN-RECV"
            case .finWait1: "FIN-WAIT-1"
            case .finWait2: "FIN-WAIT-2"
            case .timeWait: "TIME-WAIT"
            case .close: "CLOSE"
            case .closeWait: "CLOSE-WAIT"
            case .lastAck: "LAST-ACK"
            case .listen: "LISTEN"
            case .closing: "CLOSING"
            }
        }
    }

    /// Which timer the kernel has armed (`idiag_timer`).
    public enum Timer: UInt8, Sendable, Hashable {
        case none = 0
        /// Retransmission (also RACK reorder and tail-loss probes).
        case retransmit = 1
        /// Keepalive (or, for an orphaned FIN-WAIT-2 with a long fin timeout, `sk_timer`).
        case keepalive = 2
        case timeWait = 3
        /// Zero-window probe.
        case zeroWindowProbe = 4
    }

    /// Whether keepalive is on, and how that is known.
    public enum Keepalive: Sendable, Hashable {
        /// Read from the socket itself (`getsockopt(SO_KEEPALIVE)` on a `pidfd_getfd` copy).
        case socket(on: Bool)
        /// Guessed from the diag timer: a keepalive socket keeps timer 2 armed while idle.
        case inferred(on: Bool)
        /// The timer hides it (a retransmission or zero-window timer is armed).
        case unknown
    }

    /// The socket's own timing, where it set any (`TCP_KEEPIDLE`/`INTVL`/`CNT`,
    /// `TCP_USER_TIMEOUT`); `nil` members fall back to the namespace's sysctls.
    public struct Options: Sendable, Hashable {
        public var idle: Int?
        public var interval: Int?
        public var count: Int?
        /// `TCP_USER_TIMEOUT` in milliseconds; 0 or `nil` means unset.
        public var userTimeoutMilliseconds: Int?

        public init(idle: Int? = nil, interval: Int? = nil, count: Int? = nil, userTimeoutMilliseconds: Int? = nil) {
            self.idle = idle
            self.interval = interval
            self.count = count
            self.userTimeoutMilliseconds = userTimeoutMilliseconds
        }
    }

    public var state: State
    public var timer: Timer
    /// Milliseconds until the armed timer runs next (`idiag_expires`): not the idle time.
    public var expiresMilliseconds: Int
    /// Retransmits (timer 1) or probes sent (timers 2 and 4) (`idiag_retrans`).
    public var retransmits: Int
    /// The socket inode; 0 for orphans (the application closed it), time-wait and request socks.
    public var inode: UInt64
    /// Milliseconds since data or an ACK was last received: keepalive's idea of idle
    /// (`min(tcpi_last_data_recv, tcpi_last_ack_recv)`), when `tcp_info` came with the dump.
    public var idleMilliseconds: Int?
    /// Segments sent and not yet acknowledged (`tcpi_unacked`).
    public var unacknowledged: Int
    public var keepalive: Keepalive
    public var options: Options

    public init(state: State, timer: Timer = .none, expiresMilliseconds: Int = 0, retransmits: Int = 0,
                inode: UInt64 = 1, idleMilliseconds: Int? = nil, unacknowledged: Int = 0,
                keepalive: Keepalive = .unknown, options: Options = Options()) {
        self.state = state
        self.timer = timer
        self.expiresMilliseconds = expiresMilliseconds
        self.retransmits = retransmits
        self.inode = inode
        self.idleMilliseconds = idleMilliseconds
        self.unacknowledged = unacknowledged
        self.keepalive = keepalive
        self.options = options
    }

    /// Whether the application has closed it and the kernel finishes it alone: no inode
    /// (an orphan, or a FIN-WAIT-2 that became a timewait sock), not in TIME-WAIT proper.
    public var orphaned: Bool { inode == 0 && state != .timeWait }

    /// What the timer says about keepalive, when nothing better is known.
    public var inferredKeepalive: Keepalive {
        switch timer {
        case .keepalive: .inferred(on: !(state == .finWait2 && orphaned))
        case .retransmit, .zeroWindowProbe: .unknown
        case .none, .timeWait: .inferred(on: false)
        }
    }
}

/// The sysctls of a network namespace that decide when a connection there is reaped.
public struct ReapingSysctls: Sendable, Hashable {
    public var keepalive: KeepaliveValues
    /// `net.ipv4.tcp_retries2`: retransmissions before an unacknowledged connection dies.
    public var retries2: Int
    /// `net.ipv4.tcp_fin_timeout`: how long an orphaned FIN-WAIT-2 lingers, in seconds.
    public var finTimeout: Int
    /// `net.ipv4.tcp_syn_retries`, for SYN-SENT.
    public var synRetries: Int
    /// `net.ipv4.tcp_synack_retries`, for SYN-RECV.
    public var synackRetries: Int

    public init(keepalive: KeepaliveValues = .kernelDefaults, retries2: Int = 15, finTimeout: Int = 60,
                synRetries: Int = 6, synackRetries: Int = 5) {
        self.keepalive = keepalive
        self.retries2 = retries2
        self.finTimeout = finTimeout
        self.synRetries = synRetries
        self.synackRetries = synackRetries
    }
}

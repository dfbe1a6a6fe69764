import KeepaliveDaemon
import KeepaliveModel
import Testing

@Suite("Status line (pure)")
struct StatusLineTests {
    static let policy: Policy = {
        let server = ResolvedProfile(name: ProfileName("server")!, description: "d",
                                     values: KeepaliveValues(time: 1800, intvl: 30, probes: 3),
                                     provenance: [:], source: "s", chain: ["s"])
        return Policy(config: DaemonConfig(), profile: server)
    }()

    @Test func inForce() {
        #expect(StatusLine.make(policy: Self.policy, drift: [], contested: [], rejection: nil)
                == "profile server in force: 1800/30/3, dead peers found within 31min 30s")
    }

    @Test func rejectionDriftAndContest() {
        #expect(StatusLine.make(policy: Self.policy, drift: [], contested: [], rejection: "f:3: error: x")
                == "reload rejected: f:3: error: x (still enforcing server)")
        #expect(StatusLine.make(policy: Self.policy, drift: [ValueDifference(key: .time, expected: 1800, actual: 7200)],
                                contested: [], rejection: nil)
                == "DRIFT from profile server: net.ipv4.tcp_keepalive_time is 7200, wants 1800 (on-drift = enforce)")
        #expect(StatusLine.make(policy: Self.policy, drift: [], contested: [.time], rejection: nil).contains("contested"))
    }
}

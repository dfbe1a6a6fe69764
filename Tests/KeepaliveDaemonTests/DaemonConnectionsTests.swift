import Foundation
import KeepaliveTestKit
import Testing

/// The daemon's `[connections]` audit, with live peers in the daemon's own private
/// namespace: a unit holding never-reaped connections is warned about once, and the sockets
/// of the units named in `enable-keepalive` are given keepalive. The "unit" is a cgroup v2
/// the fixture makes for its server and removes afterwards.
@Suite("The daemon's connections audit", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil && LivePeers.unavailableReason == nil,
                Comment(rawValue: DaemonUnderTest.unavailableReason ?? LivePeers.unavailableReason ?? "")))
struct DaemonConnectionsTests {
    @Test func aNamedUnitIsWarnedAboutOnceAndGivenKeepalive() throws {
        let unit = "kt-test-legacy-\(getpid()).service"
        let daemon = try DaemonUnderTest.started(config: """
            [daemon]
            profile = server
            [connections]
            audit-interval = 1s
            alert-never-reaped = 2
            enable-keepalive = kt-test-legacy-\(getpid()).*
            """)
        defer { daemon.signal(SIGTERM); _ = daemon.waitForExit() }
        let peers = try LivePeers(["--join", String(daemon.pid), "--unit", unit, "--connections", "5"])
        defer { peers.stop() }
        let unreaped = try #require(daemon.waitForEvent("connections-unreaped", where: { $0["UNIT"] == unit }), "\(daemon.journalText)")
        #expect(unreaped.entry["COUNT"] == "5" && unreaped.entry["PID"] == String(peers.server))
        #expect(unreaped.entry["STATES"] == "5 ESTABLISHED" && unreaped.entry["PRIORITY"] == "4")
        // The dump and the /proc scan run together, so an audit can find the server in its
        // unit while its dump still lacks connections accepted meanwhile: the listener is
        // then given keepalive first, the connections at the next audit. The entries add up.
        var given = 0, from = 0
        while given < 6, let enabled = daemon.waitForEvent("keepalive-enabled", from: from, where: { $0["UNIT"] == unit }) {
            #expect(enabled.entry["PID"] == String(peers.server) && enabled.entry["PRIORITY"] == "6", "\(enabled.entry)")
            given += Int(enabled.entry["COUNT"] ?? "") ?? 0
            from = enabled.index + 1
        }
        #expect(given == 6, "5 connections and the listening socket\n\(daemon.journalText)")
        // Every connection of the unit has keepalive now, read from the sockets themselves.
        let exact = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(daemon.pid),
                                          "--pid", String(peers.server), "--exact", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(exact.stdout.utf8)) as? [String: Any], "\(exact)")
        let connections = document["connections"] as? [[String: Any]] ?? []
        #expect(connections.count == 5 && connections.allSatisfy { $0["keepalive"] as? String == "on" }, "\(connections)")
        #expect(daemon.waitForEvent("audit-failed", timeout: 0) == nil, "\(daemon.journalText)")
    }
}

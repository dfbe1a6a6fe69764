import Foundation
import KeepaliveTestKit
import Testing

/// `keepalived-tune connections` against real connections between two private network
/// namespaces (LivePeers): the 702 half-open connections of the story, every verdict class
/// made real, keepalive given through pidfd_getfd, and an unprivileged run. Nothing outside
/// the fixture's namespaces is audited or changed.
@Suite("connections (live peers in private namespaces)", .serialized,
       .enabled(if: LivePeers.unavailableReason == nil, Comment(rawValue: LivePeers.unavailableReason ?? "")))
struct ConnectionsTests {
    /// `connections ARGS --json` in namespace A; the decoded document.
    static func audit(_ peers: LivePeers, _ arguments: String...) throws -> [String: Any] {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA), "--json"] + arguments)
        try #require(result.status == 0, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
    }

    static func connections(_ document: [String: Any]) -> [[String: Any]] { document["connections"] as? [[String: Any]] ?? [] }

    /// Audits until `done` holds for the document (the kernel acts on its own clock).
    static func auditUntil(_ peers: LivePeers, _ arguments: [String], timeout: Double = MessageLog.defaultTimeout,
                           _ done: ([String: Any]) -> Bool) throws -> (document: [String: Any], seconds: Double) {
        let start = Date()
        while true {
            let result = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA), "--json"] + arguments)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
            if done(document) { return (document, Date().timeIntervalSince(start)) }
            try #require(Date().timeIntervalSince(start) < timeout, "not reached within \(Int(timeout)) s: \(document["processes"] ?? "")")
            usleep(200_000)
        }
    }

    @Test func sevenHundredTwoHalfOpenConnectionsAreAttributedGivenKeepaliveAndReaped() throws {
        let peers = try LivePeers(["--connections", "702", "--profile", "2/1/2"], timeout: 120)
        defer { peers.stop() }
        let server = Int(peers.server)
        let before = try Self.audit(peers, "--pid", String(server), "--port", "31091")
        let held = Self.connections(before)
        #expect(held.count == 702, "every connection the server accepted, and only those")
        #expect(held.allSatisfy { ($0["pids"] as? [Int]) == [server] && $0["process"] as? String == "python3" })
        let otherwise = held.filter { !($0["keepalive"] as? String == "off" && $0["reaped_by"] as? String == "never"
            && $0["reaped_within_seconds"] is NSNull && $0["reason"] as? String == "the application never enabled keepalive") }
        #expect(otherwise.isEmpty, "connections with another verdict: \(otherwise.prefix(3))")
        let check = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA), "--pid", String(server), "--check"])
        #expect(check.status == 1, "--check: connections that will never be reaped\n\(check)")
        #expect(check.stdout.contains("--enable-keepalive --pid \(server)"), "the summary says what to do\n\(check.stdout)")

        try peers.command("cut")
        let enable = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA),
                                           "--enable-keepalive", "--pid", String(server)])
        try #require(enable.status == 0, "\(enable)")
        #expect(enable.stdout.contains("gave keepalive to 702 connections and 1 listening socket; 0 already had it; 0 failed"), "\(enable.stdout)")
        let (after, seconds) = try Self.auditUntil(peers, ["--pid", String(server)], timeout: 60) { Self.connections($0).isEmpty }
        print("702 half-open connections dropped by the kernel \(String(format: "%.1f", seconds)) s after --enable-keepalive (profile 2/1/2)")
        let dead = after["dead_sockets"] as? [[String: Any]] ?? []
        #expect(dead.count == 702, "the server still holds every socket the kernel closed")
        #expect(dead.allSatisfy { $0["pid"] as? Int == server })
        let again = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA),
                                          "--pid", String(server), "--check"])
        #expect(again.status == 0, "nothing left that will never be reaped\n\(again)")
    }

    @Test func everyVerdictClassIsFoundInARealKernel() throws {
        let peers = try LivePeers(["--classes", "--connections", "2", "--profile", "2/1/2"])
        defer { peers.stop() }
        let all = Self.connections(try Self.audit(peers, "--exact"))
        func one(_ remote: String, state: String) throws -> [String: Any] {
            try #require(all.first { $0["remote"] as? String == remote && $0["state"] as? String == state }, "\(remote) \(state) in \(all)")
        }
        let closeWait = try one("10.231.0.2:40001", state: "CLOSE-WAIT")
        #expect(closeWait["reaped_by"] as? String == "never" && closeWait["reason"] as? String == "the peer closed; the application has not")
        let timeWait = try one("10.231.0.2:7001", state: "TIME-WAIT")
        #expect(timeWait["reaped_by"] as? String == "time-wait" && timeWait["reaped_within_seconds"] is Int, "a bound, not never")
        let finWait = try one("10.231.0.2:7002", state: "FIN-WAIT-2")
        #expect(finWait["reaped_by"] as? String == "fin-timeout" && (finWait["pids"] as? [Int]) == [], "orphaned: nobody holds it")
        let ownIdle = try one("10.231.0.2:40002", state: "ESTABLISHED")
        #expect(ownIdle["keepalive"] as? String == "on" && ownIdle["keepalive_source"] as? String == "socket")
        #expect(ownIdle["reaped_by"] as? String == "keepalive" && ownIdle["reaped_within_seconds"] is Int)
        #expect((ownIdle["reason"] as? String)?.contains("300/1/2 from its own keepalive settings") == true, "\(ownIdle)")
        let plain = try one("10.231.0.2:40003", state: "ESTABLISHED")
        #expect(plain["keepalive"] as? String == "off" && plain["keepalive_source"] as? String == "netns" && plain["reaped_by"] as? String == "never")
        let ipv6 = try one("[fd00:231::2]:40004", state: "ESTABLISHED")
        #expect(ipv6["local"] as? String == "[fd00:231::1]:31091" && ipv6["reaped_by"] as? String == "never")

        try peers.command("cut")
        try peers.command("send")
        let (unacknowledged, _) = try Self.auditUntil(peers, ["--port", "40003"]) { document in
            Self.connections(document).first?["reaped_by"] as? String == "retransmission"
        }
        #expect((Self.connections(unacknowledged).first?["reason"] as? String)?.hasPrefix("unacknowledged data") == true)

        let killed = try peers.insideA(["ss", "-K", "dst", "10.231.0.2", "dport", "=", ":40002"])
        try #require(killed.status == 0, "\(killed)")
        let afterKill = try Self.audit(peers, "--pid", String(peers.server))
        #expect(!Self.connections(afterKill).contains { $0["remote"] as? String == "10.231.0.2:40002" })
        let dead = afterKill["dead_sockets"] as? [[String: Any]] ?? []
        #expect(dead.count == 1 && dead.first?["pid"] as? Int == Int(peers.server), "the socket ss -K killed is still held: \(dead)")
    }

    @Test func theJSONFollowsTheDocumentedSchema() throws {
        let peers = try LivePeers(["--classes", "--connections", "1"])
        defer { peers.stop() }
        let document = try Self.audit(peers)
        #expect(Set(document.keys) == ["connections", "processes", "dead_sockets", "not_seen", "advice"])
        let connections = Self.connections(document)
        try #require(!connections.isEmpty)
        let keys: Set<String> = ["state", "local", "remote", "pids", "process", "unit", "keepalive", "keepalive_source",
                                 "idle_seconds", "reaped_by", "reaped_within_seconds", "reason"]
        for connection in connections {
            #expect(Set(connection.keys) == keys, "\(connection)")
            #expect(["on", "off", "unknown"].contains(connection["keepalive"] as? String ?? ""))
            #expect(["socket", "netns", "inferred"].contains(connection["keepalive_source"] as? String ?? ""))
            #expect(["keepalive", "retransmission", "fin-timeout", "time-wait", "never"].contains(connection["reaped_by"] as? String ?? ""))
            #expect((connection["reaped_by"] as? String == "never") == (connection["reaped_within_seconds"] is NSNull))
            #expect(connection["pids"] is [Int] && connection["local"] is String && connection["reason"] is String)
        }
        let process = try #require((document["processes"] as? [[String: Any]])?.first { $0["pid"] as? Int == Int(peers.server) })
        #expect(Set(process.keys) == ["pid", "process", "unit", "connections", "states", "without_keepalive", "never_reaped", "oldest_idle_seconds"])
        #expect(process["states"] is [String: Int])
    }

    @Test func aListenerGivenKeepalivePassesItToConnectionsAcceptedLater() throws {
        let peers = try LivePeers(["--classes", "--connections", "1"])
        defer { peers.stop() }
        let dry = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA),
                                        "--enable-keepalive", "--port", "31091", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("would enable keepalive: PID \(peers.server) (python3)") && dry.stdout.contains("listening socket"), "\(dry)")
        #expect(Self.connections(try Self.audit(peers, "--port", "40003", "--exact")).first?["keepalive"] as? String == "off", "--dry-run changed nothing")
        let enable = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA),
                                           "--enable-keepalive", "--port", "31091"])
        #expect(enable.status == 0 && enable.stdout.contains("inherit keepalive"), "\(enable)")
        try peers.command("connect")
        let later = try #require(Self.connections(try Self.audit(peers, "--port", "40005", "--exact")).first)
        #expect(later["keepalive"] as? String == "on" && later["keepalive_source"] as? String == "netns", "\(later)")
        let twice = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--netns", String(peers.namespaceA),
                                          "--enable-keepalive", "--port", "31091"])
        #expect(twice.stdout.contains("gave keepalive to 0 connections and 0 listening sockets"), "idempotent\n\(twice)")
        let untouched = try #require(Self.connections(try Self.audit(peers, "--port", "7002")).first)
        #expect(untouched["state"] as? String == "FIN-WAIT-2", "a socket of no selected process is left alone")
    }

    @Test func unfilteredEnablingIsRefused() throws {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "connections", "--enable-keepalive"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("needs --pid, --unit or --port"))
    }

    @Test func anUnprivilegedUserGetsWhatItMaySeeSaidPlainly() throws {
        let unit = "kt-test-hidden-\(getpid()).service"
        let peers = try LivePeers(["--connections", "3", "--unit", unit, "--unit-from-start"])
        defer { peers.stop() }
        // A copy of the binary that user nobody may run, in a directory it may enter.
        let directory = try TemporaryDirectory("kt-nobody")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let binary = directory.url("keepalived-tune")
        try FileManager.default.copyItem(atPath: ChildProcess.keepalivedTune, toPath: binary)
        let result = try peers.insideA(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", binary, "connections", "--json"])
        #expect(result.status == 0, "partial results are not a failure\n\(result)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        let connections = Self.connections(document)
        #expect(connections.count == 3, "the dump needs no privilege: the server's end of each of the 3 connections")
        #expect(connections.allSatisfy { ($0["pids"] as? [Int]) == [] }, "root's processes' descriptors are not visible to nobody")
        #expect(connections.allSatisfy { $0["unit"] as? String == unit }, "the unit comes from the sockets' cgroup id: \(connections)")
        let notSeen = document["not_seen"] as? [String] ?? []
        #expect(notSeen.contains { $0.contains("could not be read") && $0.contains("needs root") }, "\(notSeen)")
        let text = try peers.insideA(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", binary, "connections"])
        #expect(text.status == 0 && text.stdout.contains("not seen: the descriptors of"), "\(text)")
    }
}

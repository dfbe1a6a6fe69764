import Foundation
import KeepaliveTestKit
import Testing

/// `namespaces`, `--netns` on status/verify/apply and `connections --all-namespaces`, run
/// inside a private mount, PID and network namespace (`unshare -mpn --fork --mount-proc`
/// with a tmpfs over /run): every namespace they can find there is one the test made.
@Suite("The namespaces command and --netns",
       .enabled(if: geteuid() == 0 && ChildProcessLookup.path(of: "ip") != nil, "needs root and iproute2"))
struct NamespacesCommandTests {
    static let config = """
        [daemon]
        profile = server
        [namespaces]
        manage = matching
        [namespaces.rules]
        web = netns:kt-web-*

        """

    /// Runs the script's commands in one private world; their outputs land in files.
    static func runInPrivateWorld() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("kt-namespaces-cli")
        try directory.write("keepalived-tune.conf", config)
        try directory.write("listener.py", """
            import socket, sys
            server = socket.socket()
            server.bind(("127.0.0.1", 5000))
            server.listen()
            client = socket.create_connection(("127.0.0.1", 5000))
            accepted, _ = server.accept()
            print("ready", flush=True)
            sys.stdin.read()   # until the script closes our stdin
            """)
        let script = """
            set -u
            mount -t tmpfs tmpfs /run
            B="$1"; C="$2/keepalived-tune.conf"; O="$2"
            ip netns add kt-web-1 && ip netns add kt-other-1 || exit 90
            ip netns exec kt-web-1 ip link set lo up
            mkfifo "$O/in" "$O/ready"
            ip netns exec kt-web-1 python3 "$O/listener.py" < "$O/in" > "$O/ready" &
            exec 3> "$O/in"
            read line < "$O/ready"
            "$B" namespaces --config "$C" --json > "$O/namespaces.json"; echo $? > "$O/namespaces.rc"
            "$B" namespaces --config "$C" > "$O/namespaces.txt"
            "$B" verify --config "$C" --netns kt-web-1 > "$O/verify-before.txt"; echo $? > "$O/verify-before.rc"
            "$B" apply --config "$C" --netns kt-web-1 > "$O/apply.txt"; echo $? > "$O/apply.rc"
            "$B" verify --config "$C" --netns kt-web-1 > "$O/verify.txt"; echo $? > "$O/verify.rc"
            "$B" status --config "$C" --netns kt-web-1 --json > "$O/status.json"
            "$B" verify --config "$C" --netns kt-other-1 > "$O/verify-other.txt"; echo $? > "$O/verify-other.rc"
            "$B" namespaces --config "$C" --check > /dev/null; echo $? > "$O/check.rc"
            "$B" connections --all-namespaces --json > "$O/connections.json"; echo $? > "$O/connections.rc"
            cat /proc/sys/net/ipv4/tcp_keepalive_time > "$O/own-time.txt"
            exec 3>&-
            wait
            """
        let result = try ChildProcess.run(["unshare", "-mpn", "--fork", "--mount-proc", "--propagation", "private",
                                           "bash", "-c", script, "bash", ChildProcess.keepalivedTune, directory.path])
        #expect(result.status == 0, "\(result)")
        return directory
    }

    static func json(_ directory: TemporaryDirectory, _ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(directory.read(name).utf8)) as? [String: Any])
    }

    @Test func everyNamespaceIsListedWithItsRuleAndTheNetnsOptionsWorkOnIt() throws {
        let out = try Self.runInPrivateWorld()
        #expect(try out.read("namespaces.rc") == "0\n")
        let listing = try Self.json(out, "namespaces.json")
        let rows = try #require(listing["namespaces"] as? [[String: Any]])
        #expect(rows.count == 3, "\(rows)")
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as? String ?? "", $0) })
        let host = try #require(byName["(this namespace)"])
        #expect(host["kind"] as? String == "host" && host["profile"] as? String == "server" && host["managed"] as? Bool == true)
        let web = try #require(byName["kt-web-1"])
        #expect(web["kind"] as? String == "netns" && web["profile"] as? String == "web" && web["managed"] as? Bool == true)
        #expect((web["expected"] as? [String: Int])?["tcp_keepalive_intvl"] == 15)
        #expect((web["actual"] as? [String: Int])?["tcp_keepalive_time"] == 7200)
        #expect(web["drift"] as? Bool == true)
        #expect((web["inode"] as? Int ?? 0) > 0 && (web["explicit"] as? [String: Any])?.isEmpty == true)
        let other = try #require(byName["kt-other-1"])
        #expect(other["profile"] is NSNull && other["managed"] as? Bool == false && other["expected"] is NSNull && other["drift"] is NSNull)
        #expect(other["reason"] as? String == "manage = matching and no rule matches")
        for row in rows {
            #expect(Set(row.keys).isSuperset(of: ["inode", "kind", "name", "profile", "managed", "expected", "actual", "drift", "explicit"]))
        }
        let text = try out.read("namespaces.txt")
        #expect(text.contains("rule web = netns:kt-web-* at \(out.path)/keepalived-tune.conf:6"), "\(text)")

        // --netns: verify drifts, apply puts the rule's profile in force there, verify agrees.
        #expect(try out.read("verify-before.rc") == "1\n")
        #expect(try out.read("apply.rc") == "0\n")
        let apply = try out.read("apply.txt")
        #expect(apply.contains("rule web = netns:kt-web-*") && apply.contains("profile web in force: 1800/15/3"), "\(apply)")
        #expect(try out.read("verify.rc") == "0\n")
        #expect(try out.read("verify.txt").contains("in force: profile web (1800/15/3)"))
        let status = try Self.json(out, "status.json")
        #expect(status["name"] as? String == "web" && status["drift"] as? Bool == false)
        #expect((status["netns"] as? [String: Any])?["name"] as? String == "kt-web-1")
        // A namespace no rule selects is held to the [daemon] profile by verify.
        #expect(try out.read("verify-other.rc") == "1\n")
        #expect(try out.read("verify-other.txt").contains("expected 1800, actual 7200"))
        // The command's own namespace was never written (only kt-web-1 was).
        #expect(try out.read("own-time.txt") == "7200\n")
        // --check: the own namespace drifts from server (nothing applied it here).
        #expect(try out.read("check.rc") == "1\n")

        // --all-namespaces: each namespace audited; the listener's connection is in kt-web-1.
        #expect(try out.read("connections.rc") == "0\n")
        let audits = try #require(try Self.json(out, "connections.json")["namespaces"] as? [[String: Any]])
        #expect(audits.count == 3)
        let webAudit = try #require(audits.first { $0["name"] as? String == "kt-web-1" }?["audit"] as? [String: Any])
        #expect((webAudit["connections"] as? [Any])?.count == 2, "\(webAudit)")
        #expect(audits.filter { $0["name"] as? String != "kt-web-1" }.allSatisfy { (($0["audit"] as? [String: Any])?["connections"] as? [Any])?.isEmpty == true })
    }
}

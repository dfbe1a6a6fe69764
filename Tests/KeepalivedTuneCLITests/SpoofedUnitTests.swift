import Foundation
import KeepaliveTestKit
import Testing

/// A unit name an unprivileged user can make is never taken for the system's unit of that
/// name (issue 32, finding 4), with real processes in real cgroups: a ``CgroupWorld`` laid out
/// as systemd lays out a host, where a user's `systemd-run --user --unit legacy-app` sits
/// beside the system's `legacy-app.service`.
@Suite("Units a user cannot spoof", .serialized,
       .enabled(if: CgroupWorld.unavailableReason == nil, Comment(rawValue: CgroupWorld.unavailableReason ?? "")))
struct SpoofedUnitTests {
    static let users = "user.slice/user-1000.slice/user@1000.service"

    /// The system's and the user's `legacy-app.service`, and one inside a `Delegate=yes`
    /// service: each a process in a network namespace of its own, and one with a loopback
    /// connection in the world's namespace. Then what `namespaces` and `connections` say.
    static let scenario = webConfig + """
        U=\(users)
        cg system.slice/legacy-app.service $U/app.slice/legacy-app.service system.slice/podhost.service/payload/legacy-app.service
        # What systemd hands over: the user's manager to the user, a Delegate=yes service to its User=.
        chown -R 1000 "$R/$U" "$R/system.slice/podhost.service"
        member system system.slice/legacy-app.service new
        member user $U/app.slice/legacy-app.service new
        member delegated system.slice/podhost.service/payload/legacy-app.service new
        for name in system user delegated; do stat -L -c %i "/proc/$(cat "$O/$name.pid")/ns/net" > "$O/$name.netns"; done
        member systemconn system.slice/legacy-app.service here 5001
        member userconn $U/app.slice/legacy-app.service here 5002
        "$B" namespaces --config "$O/web.conf" --json > "$O/namespaces.json"; echo $? > "$O/namespaces.rc"
        "$B" connections --json > "$O/connections.json"
        "$B" connections --unit legacy-app.service --json > "$O/by-unit.json"
        "$B" connections --enable-keepalive --unit legacy-app.service --json > "$O/enabled.json"; echo $? > "$O/enabled.rc"
        "$B" connections --pid "$userconn" --exact --json > "$O/user-exact.json"
        "$B" connections --pid "$systemconn" --exact --json > "$O/system-exact.json"
        cat > "$O/user.conf" <<'CONF'
        [namespaces]
        manage = matching
        [namespaces.rules]
        nat = user-unit:1000/legacy-app.service
        web = unit:legacy-app.service
        CONF
        "$B" namespaces --config "$O/user.conf" --json > "$O/namespaces-user.json"
        "$B" connections --unit user-unit:1000/legacy-app.service --json > "$O/by-user-unit.json"
        """

    /// The `web = unit:legacy-app.service` config.
    static let webConfig = """
        cat > "$O/web.conf" <<'CONF'
        [namespaces]
        manage = matching
        [namespaces.rules]
        web = unit:legacy-app.service
        CONF

        """

    @Test func aUsersUnitIsNeverTheSystemUnitOfItsName() throws {
        let out = try TemporaryDirectory("kt-spoof")
        let result = try CgroupWorld.run(Self.scenario, in: out)
        try #require(result.status == 0, "\(result)")
        #expect(try out.read("namespaces.rc") == "0\n")

        // [namespaces.rules] unit:legacy-app.service adopts the system unit's namespace only.
        let rows = try out.namespaceRows("namespaces.json")
        let system = try #require(rows[try out.number("system.netns")], "\(rows)")
        #expect(system["managed"] as? Bool == true && system["profile"] as? String == "web", "\(system)")
        let user = try #require(rows[try out.number("user.netns")], "\(rows)")
        #expect(user["managed"] as? Bool == false, "the user's own legacy-app.service was taken for the system's: \(user)")
        #expect(user["units"] as? [String] == ["user@1000.service"], "\(user)")
        #expect(user["kind"] as? String == "user-unit" && user["name"] as? String == "1000/legacy-app.service", "\(user)")
        let delegated = try #require(rows[try out.number("delegated.netns")], "\(rows)")
        #expect(delegated["managed"] as? Bool == false && delegated["units"] as? [String] == ["podhost.service"], "\(delegated)")

        // The UNIT field says whose unit it is.
        let (systemPID, userPID) = (try out.number("systemconn.pid"), try out.number("userconn.pid"))
        let processes = try out.json("connections.json")["processes"] as? [[String: Any]] ?? []
        let units = Dictionary(processes.map { ($0["pid"] as? Int ?? 0, $0["unit"] as? String ?? "-") }) { first, _ in first }
        #expect(units[systemPID] == "legacy-app.service", "\(processes)")
        #expect(units[userPID] == "user-unit:1000/legacy-app.service", "\(processes)")

        // --unit legacy-app.service selects the system unit's connections only...
        let selected = try out.json("by-unit.json")["connections"] as? [[String: Any]] ?? []
        #expect(selected.count == 2 && selected.allSatisfy { $0["pids"] as? [Int] == [systemPID] }, "\(selected)")
        // ...and so does --enable-keepalive: the user's sockets keep keepalive off.
        #expect(try out.read("enabled.rc") == "0\n")
        let changes = try out.json("enabled.json")["changes"] as? [[String: Any]] ?? []
        #expect(!changes.isEmpty && changes.allSatisfy { $0["pid"] as? Int == systemPID && $0["unit"] as? String == "legacy-app.service" },
                "\(changes)")
        let usersSockets = try out.json("user-exact.json")["connections"] as? [[String: Any]] ?? []
        #expect(usersSockets.count == 2 && usersSockets.allSatisfy { $0["keepalive"] as? String == "off" }, "\(usersSockets)")
        let systemSockets = try out.json("system-exact.json")["connections"] as? [[String: Any]] ?? []
        #expect(systemSockets.count == 2 && systemSockets.allSatisfy { $0["keepalive"] as? String == "on" }, "\(systemSockets)")

        // A user's units are selected as user-unit:UID/NAME.
        let byUser = try out.namespaceRows("namespaces-user.json")
        #expect(byUser[try out.number("user.netns")]?["profile"] as? String == "nat", "\(byUser)")
        #expect(byUser[try out.number("system.netns")]?["profile"] as? String == "web", "\(byUser)")
        let usersConnections = try out.json("by-user-unit.json")["connections"] as? [[String: Any]] ?? []
        #expect(usersConnections.count == 2 && usersConnections.allSatisfy { $0["pids"] as? [Int] == [userPID] }, "\(usersConnections)")
    }

    /// A cgroup root handed to a user (chowned), or left writable to all: nothing below it is a
    /// system unit, though systemd would never have made such names there.
    @Test func nothingBelowACgroupRootGaveAwayIsASystemUnit() throws {
        let out = try TemporaryDirectory("kt-spoof-delegated")
        let result = try CgroupWorld.run(Self.webConfig + """
            cg system.slice/legacy-app.service given.slice/legacy-app.service open.slice/legacy-app.service
            chown 1000 "$R/given.slice"
            chmod 0777 "$R/open.slice"
            for name in system given open; do
                case $name in system) cgroup=system.slice ;; *) cgroup=$name.slice ;; esac
                member $name $cgroup/legacy-app.service new
                stat -L -c %i "/proc/$(cat "$O/$name.pid")/ns/net" > "$O/$name.netns"
            done
            "$B" namespaces --config "$O/web.conf" --json > "$O/namespaces.json"
            """, in: out)
        try #require(result.status == 0, "\(result)")
        let rows = try out.namespaceRows("namespaces.json")
        #expect(rows[try out.number("system.netns")]?["profile"] as? String == "web", "\(rows)")
        for name in ["given", "open"] {
            let row = try #require(rows[try out.number("\(name).netns")], "\(name): \(rows)")
            #expect(row["managed"] as? Bool == false && row["units"] as? [String] == [], "\(name): \(row)")
        }
    }
}

import Foundation
import KeepaliveTestKit
import Testing

/// The saved originals under real daemons and real namespaces (issue 32, findings 8 and 9):
/// two daemons that share one runtime directory (each in a network namespace of its own),
/// and a namespace that ends while the daemon is down, whose inode the kernel then gives to
/// a new one. Everything written is the test's own: its namespaces, its runtime directory.
@Suite("Originals shared and reused (real daemons)", .serialized,
       .enabled(if: DaemonUnderTest.unavailableReason == nil && ChildProcessLookup.path(of: "nsenter") != nil,
                Comment(rawValue: DaemonUnderTest.unavailableReason ?? "nsenter is not installed")))
struct SharedOriginalsTests {
    static let restoring = serverConfig + "restore-on-stop = yes\n"

    /// Starts `daemon` on `runtime` and waits for its READY=1.
    func start(_ daemon: DaemonUnderTest, runtime: String) throws {
        try daemon.start(["--runtime-dir", runtime])
        _ = try #require(daemon.waitForNotify { $0["READY"] == "1" }, "\(daemon.journalText)")
    }

    /// Runs `script` with sh in the daemon's mount namespace; its stdout, trimmed.
    @discardableResult
    func shell(_ daemon: DaemonUnderTest, _ script: String) throws -> String {
        let result = try daemon.runInMountNamespace(["sh", "-c", script])
        try #require(result.status == 0, "\(script): \(result)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A process in the daemon's namespace `name` (`ip netns exec NAME sleep`), once it is
    /// there; it keeps the namespace alive past the daemon. The caller kills it.
    func holder(_ daemon: DaemonUnderTest, in name: String) throws -> (process: SpawnedProcess, pid: Int32) {
        let process = try SpawnedProcess(daemon.nsenterPrefix + ["ip", "netns", "exec", name, "sh", "-c", "echo $$; exec sleep 600"],
                                         stdout: .pipe)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = process.output!.availableData   // blocks until the shell writes
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let pid = Int32(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.wait()
            throw POSIXError(.ESRCH)
        }
        return (process, pid)
    }

    /// The first one's clean stop puts its own namespace back and leaves the second's saved
    /// originals and published state alone; the second, crashed and restarted, still puts back
    /// the kernel's values, not its profile.
    @Test func twoDaemonsSharingARuntimeDirectoryKeepEachOthersOriginals() throws {
        let first = try DaemonUnderTest(config: Self.restoring)
        let second = try DaemonUnderTest(config: Self.restoring)
        let runtime = first.directory.url("run")
        try start(first, runtime: runtime)
        try start(second, runtime: runtime)
        #expect(try first.values() == "1800/30/3")
        #expect(try second.values() == "1800/30/3")
        let secondInode = try second.namespace.inode()

        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
        #expect(try first.values() == "7200/75/9")
        let saved = (try? String(contentsOfFile: "\(runtime)/originals", encoding: .utf8)) ?? ""
        let state = (try? String(contentsOfFile: "\(runtime)/daemon", encoding: .utf8)) ?? ""
        #expect(saved.contains("netns \(secondInode) "), "\(saved)")
        #expect(state.hasPrefix("pid=\(second.pid) "), "\(state)")

        try crashRestartAndStop(second, runtime: runtime)
        #expect(try second.values() == "7200/75/9")
        #expect(access("\(runtime)/originals", F_OK) != 0, "the last daemon's clean stop leaves no entry, and no file")
        #expect(access("\(runtime)/daemon", F_OK) != 0)
    }

    /// One round of the hunt below: a namespace at 1111/11/1 is brought under a rule (a
    /// reload) and adopted, its originals saved; the daemon is killed, which ends its mount
    /// namespace and the namespace's only pin, while a process of the test's keeps the
    /// namespace alive (nameless now, so no rule selects it); the daemon is started again;
    /// then one script kills that process and makes namespaces until one gets the inode.
    /// So no namespace made elsewhere meanwhile is likely to take the inode first; if one did
    /// and kept it, the round is lost (`nil`). The reusing namespace's name and the inode.
    func huntRound(_ round: Int, _ daemon: DaemonUnderTest, config: inout String, runtime: String) throws -> (name: String, inode: String)? {
        let old = "kt-old-\(round)"
        try shell(daemon, "ip netns add \(old) && ip netns exec \(old) sysctl -qw net.ipv4.tcp_keepalive_time=1111 net.ipv4.tcp_keepalive_intvl=11 net.ipv4.tcp_keepalive_probes=1")
        let inode = try shell(daemon, "stat -L -c %i /run/netns/\(old)")
        config = config.replacingOccurrences(of: "netns:kt-web-*", with: "netns:kt-web-* netns:\(old)")
        try daemon.editConfig(config)
        let adopted = try #require(daemon.waitForEvent("namespace-adopted") { $0["NETNS_NAME"] == old }, "\(daemon.journalText)")
        #expect(adopted.entry["NETNS"] == inode)
        // A correction comes in a later turn than the adoption's write of the originals file.
        try shell(daemon, "ip netns exec \(old) sysctl -qw net.ipv4.tcp_keepalive_probes=4")
        _ = try #require(daemon.waitForEvent("corrected", from: adopted.index) { $0["NETNS_NAME"] == old }, "\(daemon.journalText)")
        #expect(try String(contentsOfFile: "\(runtime)/originals", encoding: .utf8).contains("netns \(inode) cookie "))

        let keeper = try holder(daemon, in: old)
        defer {
            kill(keeper.pid, SIGKILL)   // the hunt kills it first; this only if it never ran
            keeper.process.wait()
        }
        #expect(daemon.crash())
        let ready = daemon.notify.all.count
        try daemon.start(["--runtime-dir", runtime])
        _ = try #require(daemon.waitForNotify(from: ready) { $0["READY"] == "1" }, "\(daemon.journalText)")
        let hunt = try daemon.runInMountNamespace(["sh", "-c", """
            kill -KILL \(keeper.pid)
            for n in $(seq 1 300); do
              ip netns add kt-web-\(round)-$n || exit 2
              i=$(stat -L -c %i /run/netns/kt-web-\(round)-$n)
              if [ "$i" = "\(inode)" ]; then echo kt-web-\(round)-$n; exit 0; fi
              if [ "$i" -gt "\(inode)" ]; then ip netns delete kt-web-\(round)-$n; fi
            done
            exit 1
            """])
        try #require(hunt.status != 2, "\(hunt)")
        return hunt.status == 0 ? (hunt.stdout.trimmingCharacters(in: .whitespacesAndNewlines), inode) : nil
    }

    /// A namespace with values of its own is adopted and its originals saved; it ends while
    /// the daemon is down. New namespaces are made until the kernel gives one the dead one's
    /// inode (a bounded hunt: each lower inode held, each higher let go; a round lost to
    /// another namespace on the machine is made again, three rounds at most). That one is
    /// found anew: restore-on-stop puts back its own 7200/75/9, not the dead one's 1111/11/1.
    @Test func aNamespaceGivenADeadOnesInodeIsNotGivenItsOriginals() throws {
        var config = serverConfig + "check-interval = 1s\nrestore-on-stop = yes\n\n[namespaces]\nmanage = matching\n\n[namespaces.rules]\nweb = netns:kt-web-*\n"
        let daemon = try DaemonUnderTest(config: config)
        let runtime = daemon.directory.url("run")
        try start(daemon, runtime: runtime)
        var found: (name: String, inode: String)?
        for round in 1...3 where found == nil { found = try huntRound(round, daemon, config: &config, runtime: runtime) }
        let (name, inode) = try #require(found, "in every round, another namespace on this machine took the inode first")
        let adopted = try #require(daemon.waitForEvent("namespace-adopted") { $0["NETNS_NAME"] == name }, "\(daemon.journalText)")
        #expect(adopted.entry["NETNS"] == inode)
        #expect(try daemon.values(inNetns: name) == "1800/15/3")
        // A correction there comes in a later turn than the adoption's write of the file: by
        // then the record found now, under its own cookie, has replaced the dead one's.
        try shell(daemon, "ip netns exec \(name) sysctl -qw net.ipv4.tcp_keepalive_probes=4")
        _ = try #require(daemon.waitForEvent("corrected", from: adopted.index) { $0["NETNS_NAME"] == name }, "\(daemon.journalText)")
        let records = try String(contentsOfFile: "\(runtime)/originals", encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("netns \(inode) ") }
        #expect(records.count == 1 && records.first?.hasSuffix(" values 7200/75/9") == true, "\(records)")

        // Kept reachable past the stop (the daemon's mount namespace ends with it).
        let reader = try holder(daemon, in: name)
        defer {
            kill(reader.pid, SIGKILL)
            reader.process.wait()
        }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let restored = daemon.journal.all.first { $0["EVENT"] == "restored" && $0["NETNS_NAME"] == name }
        let after = try ChildProcess.run(["nsenter", "-t", String(reader.pid), "-n", "--", "sh", "-c",
            "cat /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/tcp_keepalive_intvl /proc/sys/net/ipv4/tcp_keepalive_probes"])
        #expect(restored?["EXPECTED"] == "7200/75/9", "\(daemon.journalText)")
        #expect(after.stdout.split(separator: "\n").joined(separator: "/") == "7200/75/9", "\(after)")
    }
}

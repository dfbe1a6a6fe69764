import Foundation
import KeepaliveTestKit
import Testing

/// `connections --enable-keepalive` (and `--all-namespaces`) when the world changes between
/// the scan and the action (issue 32): each scenario of Tests/Fixtures/connections/races.py
/// runs in a private PID, mount and network namespace, with processes, sockets and
/// namespaces of its own, and stops the tool deterministically between its plan and its act
/// (a FIFO the fixture holds) where the race needs it. Nothing outside is seen or touched.
@Suite("connections: the scan and the action race (private world)", .serialized,
       .enabled(if: geteuid() == 0 && ChildProcessLookup.path(of: "ip") != nil && ChildProcessLookup.path(of: "python3") != nil,
                "needs root, iproute2 and python3"))
struct RetrofitRaceTests {
    /// What one scenario of races.py reports: the tool's run, and the facts it gathered.
    struct Outcome {
        let facts: [String: Any]
        /// The tool's exit status, stdout and stderr, and whether it paused.
        var tool: [String: Any] { facts["tool"] as? [String: Any] ?? [:] }
        var status: Int? { tool["status"] as? Int }
        var stdout: String { tool["stdout"] as? String ?? "" }
        var stderr: String { tool["stderr"] as? String ?? "" }
        /// The tool's stdout as a JSON document.
        var document: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
        }
        /// An integer fact.
        func int(_ key: String) -> Int? { facts[key] as? Int }
        /// A socket the fixture read back from its holder: `family`, `keepalive`.
        func socket(_ key: String) -> [String: Any] { facts[key] as? [String: Any] ?? [:] }
    }

    /// Runs `scenario` in a private world; its outcome.
    static func run(_ scenario: String) throws -> Outcome {
        let directory = try TemporaryDirectory("kt-races")
        let result = try ChildProcess.run(["unshare", "-mpn", "--fork", "--mount-proc", "--propagation", "private",
                                           "python3", FileList.packageRoot + "/Tests/Fixtures/connections/races.py",
                                           scenario, ChildProcess.keepalivedTune, directory.path])
        try #require(result.status == 0, "\(result)")
        let line = try #require(result.stdout.split(separator: "\n").last, "\(result)")
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(result)")
        return Outcome(facts: facts)
    }

    /// Finding 3: after fork() parent and child hold the same connection; `--pid CHILD` acts
    /// through the child, never through the parent the scan lists first.
    @Test func aSharedSocketIsChangedOnlyThroughTheHolderSelected() throws {
        let outcome = try Self.run("shared")
        #expect(outcome.status == 0, "\(outcome.tool)")
        let changes = try #require(outcome.document["changes"] as? [[String: Any]], "\(outcome.tool)")
        #expect(changes.count == 1, "\(changes)")
        #expect(changes.first?["pid"] as? Int == outcome.int("child") && changes.first?["fd"] as? Int == 40,
                "through the child (\(outcome.int("child") ?? 0)), not the parent (\(outcome.int("parent") ?? 0)): \(changes)")
        #expect(outcome.socket("socket")["keepalive"] as? Int == 1, "the shared socket has keepalive")
    }

    /// Finding 14: between plan and act one planned descriptor is closed and one planned
    /// process exits. Nothing failed, nothing was left to give keepalive to: both are said
    /// and counted apart (`gone`), the third socket gets keepalive, and the exit status is 0.
    @Test func aSocketClosedOrAProcessExitedMeanwhileIsNoFailure() throws {
        let outcome = try Self.run("vanished")
        #expect(outcome.tool["paused"] as? Bool == true, "\(outcome.tool)")
        #expect(outcome.status == 0 && !outcome.stderr.contains("could not enable keepalive"), "\(outcome.tool)")
        let document = outcome.document
        #expect(document["connections"] as? Int == 1 && (document["failed"] as? [String])?.isEmpty == true, "\(document)")
        let gone = document["gone"] as? [String] ?? []
        #expect(gone.count == 2, "\(document)")
        #expect(gone.contains { $0.hasPrefix("PID \(outcome.int("first") ?? 0) ") && $0.contains("fd 40") && $0.hasSuffix("the descriptor was closed") },
                "\(gone)")
        #expect(gone.contains { $0.hasPrefix("PID \(outcome.int("second") ?? 0) ") && $0.hasSuffix("its process exited") }, "\(gone)")
        #expect(outcome.socket("kept")["keepalive"] as? Int == 1, "the socket still there got keepalive")
    }

    /// Finding 2: between plan and act the planned process exits and a new one gets its PID,
    /// with another connection at the planned descriptor. The tool acts through the pidfd it
    /// opened when it planned: that process is gone (ESRCH), and the new one is untouched.
    @Test func aPIDReusedMeanwhileIsNeverActedThrough() throws {
        let outcome = try Self.run("reused-pid")
        try #require(outcome.int("successor_pid") == outcome.int("planned"), "the fixture could not reuse the PID: \(outcome.facts)")
        #expect(outcome.tool["paused"] as? Bool == true, "\(outcome.tool)")
        #expect(outcome.socket("successor_socket")["keepalive"] as? Int == 0, "the new process's socket was given keepalive: \(outcome.tool)")
        let document = outcome.document
        #expect((document["changes"] as? [Any])?.isEmpty == true, "\(document)")
        #expect((document["gone"] as? [String])?.first?.hasSuffix("its process exited") == true, "\(document)")
        #expect(outcome.status == 0, "\(outcome.tool)")
    }

    /// Finding 1: between plan and act the process puts an AF_UNIX socket and a connection
    /// on an excluded port at the planned descriptor numbers. The duplicate is checked at the
    /// moment of action (inode, family, protocol): neither is touched, both are said as
    /// replaced, and the third planned connection still gets keepalive.
    @Test func aDescriptorNowHoldingAnotherSocketIsLeftAlone() throws {
        let outcome = try Self.run("replaced")
        #expect(outcome.tool["paused"] as? Bool == true, "\(outcome.tool)")
        #expect(outcome.socket("unix")["family"] as? String == "AF_UNIX" && outcome.socket("unix")["keepalive"] as? Int == 0,
                "the UNIX socket at fd 40 was given keepalive: \(outcome.tool)")
        #expect(outcome.socket("excluded")["keepalive"] as? Int == 0, "the connection to the excluded port at fd 41 was given keepalive: \(outcome.tool)")
        #expect(outcome.socket("kept")["keepalive"] as? Int == 1, "the planned connection still at fd 42 got keepalive")
        let document = outcome.document
        #expect((document["changes"] as? [[String: Any]])?.map { $0["fd"] as? Int } == [42], "\(document)")
        let gone = document["gone"] as? [String] ?? []
        #expect(gone.count == 2 && gone.allSatisfy { $0.hasSuffix("the descriptor holds another socket now, which was left alone") }, "\(gone)")
        #expect(outcome.status == 0, "\(outcome.tool)")
    }

    /// Finding 11: a process in namespace B holds a live connection of the fixture's own
    /// namespace, received over SCM_RIGHTS. B's audit does not call it dead (its socket is
    /// another namespace's), and the audit of its own namespace shows it, held by that process.
    @Test func aSocketPassedInFromAnotherNamespaceIsNotCalledDead() throws {
        let outcome = try Self.run("passed")
        let holder = try #require(outcome.int("holder"))
        #expect(outcome.status == 0, "\(outcome.tool)")
        #expect((outcome.document["dead_sockets"] as? [Any])?.isEmpty == true, "B's audit: \(outcome.document)")
        let here = (try? JSONSerialization.jsonObject(with: Data(((outcome.facts["here"] as? [String: Any])?["stdout"] as? String ?? "").utf8))) as? [String: Any]
        let connections = here?["connections"] as? [[String: Any]] ?? []
        #expect(connections.count == 1 && connections.first?["state"] as? String == "ESTABLISHED"
                && (connections.first?["pids"] as? [Int]) == [holder], "its own namespace's audit: \(here ?? [:])")
    }

    /// Finding 15: `--all-namespaces` finds three namespaces; the fixture's one audited first
    /// ends (its only process exits) after discovery, before its turn. It is skipped and
    /// noted under `not_seen`, the others are audited, and the exit status is 0; the text
    /// report says so too.
    @Test func aNamespaceThatEndedBeforeItsTurnIsSkippedAndNoted() throws {
        let outcome = try Self.run("ended")
        let ending = try #require(outcome.int("ending")), staying = try #require(outcome.int("staying"))
        try #require(ending < staying, "the namespace that ends is audited first (by inode): \(outcome.facts)")
        #expect(outcome.tool["paused"] as? Bool == true && outcome.status == 0, "\(outcome.tool)")
        let audited = (outcome.document["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["inode"] as? Int }
        #expect(audited.count == 2 && audited.contains(staying) && !audited.contains(ending), "\(outcome.document)")
        let notSeen = outcome.document["not_seen"] as? [String] ?? []
        #expect(notSeen.count == 1 && notSeen.first?.hasPrefix("network namespace \(ending) ") == true
                && notSeen.first?.hasSuffix("it ended after it was found, before its turn; skipped") == true, "\(notSeen)")
        let text = outcome.facts["text"] as? [String: Any] ?? [:]
        let again = try #require(outcome.int("ending_again"))
        #expect(text["status"] as? Int == 0, "\(text)")
        #expect((text["stdout"] as? String)?.contains("not seen: network namespace \(again) ") == true
                && (text["stdout"] as? String)?.contains("== network namespace \(staying) ") == true, "\(text)")
    }
}

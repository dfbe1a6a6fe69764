import Foundation
import KeepaliveTestKit
import Testing

@Suite("list and show")
struct ProfileCommandTests {
    @Test func listJSONShowsExactlyTheFourShippedProfiles() throws {
        let harness = try CLIHarness()
        let result = try harness.run("list", "--json")
        #expect(result.status == 0, "\(result)")
        let profiles = try #require(try CLIHarness.json(result) as? [[String: Any]])
        let summary = profiles.map { profile in
            "\(profile["name"]!) \(profile["tcp_keepalive_time"]!)/\(profile["tcp_keepalive_intvl"]!)/\(profile["tcp_keepalive_probes"]!) \(profile["detection_seconds"]!)"
        }
        #expect(summary == ["default 7200/75/9 7875", "nat 1800/75/9 2475", "server 1800/30/3 1890", "web 1800/15/3 1845"])
        #expect(profiles.allSatisfy { ($0["description"] as? String)?.isEmpty == false })
        #expect(profiles.map { $0["source"] as? String } == ["default", "nat", "server", "web"].map { "<built-in>/\($0).conf" })
    }

    @Test func listHumanOutputIsAligned() throws {
        let result = try CLIHarness().run("list")
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME     TIME") == true)
        #expect(lines.contains { $0.hasPrefix("server   1800 (30min)  30 (30s)") })
    }

    @Test func aProfileInAProfileDirOverridesTheBuiltinAndShowNamesItsLine() throws {
        let harness = try CLIHarness()
        let path = try harness.profile("server", """
            [profile]
            description = Our servers
            include = default

            [sysctl]
            net.ipv4.tcp_keepalive_time = 10min
            net.ipv4.tcp_keepalive_intvl = 20
            net.ipv4.tcp_keepalive_probes = 4
            """)
        let list = try CLIHarness.json(try harness.run("list", "--json")) as? [[String: Any]]
        let server = try #require(list?.first { $0["name"] as? String == "server" })
        #expect(server["source"] as? String == path)
        #expect(server["tcp_keepalive_time"] as? Int == 600)
        #expect(list?.count == 4)

        let show = try harness.run("show", "server", "--json")
        #expect(show.status == 0, "\(show)")
        let detail = try #require(try CLIHarness.json(show) as? [String: Any])
        let provenance = try #require(detail["provenance"] as? [String: [String: Any]])
        #expect(provenance["tcp_keepalive_time"]?["file"] as? String == path)
        #expect(provenance["tcp_keepalive_time"]?["line"] as? Int == 6)
        #expect(provenance["tcp_keepalive_probes"]?["line"] as? Int == 8)

        let human = try harness.run("show", "server")
        #expect(human.stdout.contains("net.ipv4.tcp_keepalive_time    600 (10min)  \(path):6"), "\(human)")
    }

    @Test func showMixesProvenanceAcrossTheIncludeChain() throws {
        let show = try CLIHarness().run("show", "web")
        #expect(show.status == 0)
        #expect(show.stdout.contains("<built-in>/web.conf:"))
        #expect(show.stdout.contains("<built-in>/server.conf:"))
        #expect(show.stdout.contains("dead peers found after 1845 s (30min 45s)"))
    }

    @Test("show refuses unknown and unsafe names with exit 2", arguments: ["nosuch", "../x", "a/b", ".hidden", String(repeating: "p", count: 300)])
    func showRefuses(name: String) throws {
        let result = try CLIHarness().run("show", name)
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.isEmpty)
    }

    @Test func showSuggestsACloseName() throws {
        let result = try CLIHarness().run("show", "sever")
        #expect(result.stderr.contains("did you mean 'server'?"))
    }
}

@Suite("help")
struct HelpTests {
    @Test("every level has help", arguments: [[], ["list"], ["show"], ["check"], ["apply"], ["verify"], ["status"]])
    func help(path: [String]) throws {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune] + path + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: keepalived-tune"))
        if !path.isEmpty { #expect(result.stdout.contains("--sysctl-root")) }
    }
}

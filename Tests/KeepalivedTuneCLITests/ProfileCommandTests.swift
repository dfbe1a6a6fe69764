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

@Suite("help and the command line's grammar")
struct HelpTests {
    @Test("every level has help", arguments: [[], ["run"], ["list"], ["show"], ["check"], ["apply"], ["verify"], ["status"]])
    func help(path: [String]) throws {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune] + path + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: keepalived-tune \(path.first ?? "<subcommand>")"))
        #expect(result.stdout.contains("-h, --help"))
        if !path.isEmpty {
            #expect(result.stdout.contains("--sysctl-root <dir>"))
            #expect(!result.stdout.contains("--sysctl-conf-root"), "hidden: for tests only")
        }
    }

    @Test func helpListsEveryCommandAndHelpCommandShowsOne() throws {
        let top = try ChildProcess.run([ChildProcess.keepalivedTune])
        #expect(top.status == 0)
        for command in ["run", "list", "show", "check", "apply", "verify", "status", "connections"] {
            #expect(top.stdout.contains("\n  \(command) "), "\(command) missing from\n\(top.stdout)")
        }
        let run = try ChildProcess.run([ChildProcess.keepalivedTune, "help", "run"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("--log-target <log-target>"))
        let unwrapped = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(unwrapped.contains("else console. (values: auto, journal, console; default: auto)"))
    }

    @Test func versionPrintsTheVersion() throws {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "0.1.0\n")
    }

    @Test("a command line that does not fit exits 64 with the error and the usage", arguments: [
        (["bogus"], "Unknown command 'bogus'"),
        (["verfy"], "Unknown command 'verfy'; did you mean 'verify'?"),
        (["--bogus"], "Unknown option '--bogus'"),
        (["list", "--bogus"], "Unknown option '--bogus'"),
        (["list", "-x"], "Unknown option '-x'"),
        (["list", "extra"], "Unexpected argument 'extra'"),
        (["show"], "Missing expected argument '<name>'"),
        (["list", "--config"], "Missing value for '--config <path>'"),
        (["list", "--json=yes"], "'--json' takes no value"),
        (["run", "--log-target", "syslog"], "The value 'syslog' is invalid for '--log-target <log-target>'; use one of 'auto', 'journal', 'console'"),
        (["help", "nosuch"], "Unknown command 'nosuch'"),
    ])
    func usageErrors(arguments: [String], message: String) throws {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune] + arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("Error: \(message)\nUsage: keepalived-tune "), "\(result)")
        #expect(result.stderr.contains("for more information."))
    }

    @Test func optionsTakeTheirValueInlineOrNextAndMixWithArguments() throws {
        let harness = try CLIHarness()
        let spaced = try harness.run("show", "server", "--json")
        let inline = try ChildProcess.run([ChildProcess.keepalivedTune, "show", "--json",
                                           "--config=\(harness.configPath)", "--profile-dir=\(harness.profileDirectory)", "server"])
        #expect(spaced.status == 0 && inline.status == 0, "\(spaced)\n\(inline)")
        #expect(spaced.stdout == inline.stdout)
        #expect(spaced.stdout.hasPrefix("{"))
        // After `--`, a word that looks like an option is an argument (here, a bad profile name).
        let ended = try ChildProcess.run([ChildProcess.keepalivedTune, "show"] + harness.options + ["--", "--json"])
        #expect(ended.status == 2, "\(ended)")
    }
}

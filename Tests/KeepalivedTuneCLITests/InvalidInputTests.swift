import Foundation
import KeepaliveTestKit
import Testing

/// A broken profile or config, the file:line the diagnostic must name, and a phrase of it.
struct BrokenInput: CustomTestStringConvertible, Sendable {
    let label: String
    /// Profile files to write, by name.
    var profiles: [String: [UInt8]] = [:]
    /// The config to write, if any.
    var config: String?
    /// `FILE:LINE:` relative to the harness directory.
    let location: String
    let phrase: String
    var testDescription: String { label }
}

func text(_ string: String) -> [UInt8] { Array(string.utf8) }

@Suite("Invalid input: exit 2, FILE:LINE: diagnostics, nothing written")
struct InvalidInputTests {
    static let valid = "[profile]\ndescription = x\ninclude = default\n"

    static let cases: [BrokenInput] = [
        BrokenInput(label: "unknown section", profiles: ["p": text("[profile]\ndescription = x\n[sysctls]\n")],
                    location: "profiles/p.conf:3:", phrase: "unknown section [sysctls]; did you mean 'sysctl'?"),
        BrokenInput(label: "unknown key", profiles: ["p": text(valid + "[sysctl]\nnet.ipv4.tcp_keepalive_intervall = 5\n")],
                    location: "profiles/p.conf:5:", phrase: "did you mean 'net.ipv4.tcp_keepalive_intvl'?"),
        BrokenInput(label: "not a number", profiles: ["p": text(valid + "[sysctl]\nnet.ipv4.tcp_keepalive_probes = three\n")],
                    location: "profiles/p.conf:5:", phrase: "'three' is not a number"),
        BrokenInput(label: "out of range", profiles: ["p": text(valid + "[sysctl]\nnet.ipv4.tcp_keepalive_time = 40000\n")],
                    location: "profiles/p.conf:5:", phrase: "out of range; it must be 1..32767 seconds"),
        BrokenInput(label: "missing include", profiles: ["p": text("[profile]\ndescription = x\ninclude = nothere\n")],
                    location: "profiles/p.conf:3:", phrase: "no profile named 'nothere'"),
        BrokenInput(label: "include cycle", profiles: ["p": text("[profile]\ninclude = q\n"), "q": text("[profile]\ninclude = p\n")],
                    location: "profiles/q.conf:2:", phrase: "include cycle: p -> q -> p"),
        BrokenInput(label: "file over 64 KiB", profiles: ["p": text(String(repeating: "# comment line\n", count: 5000))],
                    location: "profiles/p.conf:4370:", phrase: "over the 64 KiB limit"),
        BrokenInput(label: "not UTF-8", profiles: ["p": text("[profile]\ndescription = ") + [0xFF, 0xFE] + text("\n")],
                    location: "profiles/p.conf:2:", phrase: "not valid UTF-8"),
        BrokenInput(label: "incomplete profile", profiles: ["p": text("[profile]\ndescription = x\n[sysctl]\nnet.ipv4.tcp_keepalive_time = 60\n")],
                    location: "profiles/p.conf:1:", phrase: "does not set net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes"),
        BrokenInput(label: "broken config value", config: "[daemon]\nprofile = server\non-drift = sometimes\n",
                    location: "keepalived-tune.conf:3:", phrase: "use 'enforce' or 'warn'"),
        BrokenInput(label: "config names an unknown profile", config: "[daemon]\nprofile = sevrer\n",
                    location: "keepalived-tune.conf:2:", phrase: "did you mean 'server'?"),
        BrokenInput(label: "config override out of range", config: "[daemon]\nprofile = server\n[sysctl]\nnet.ipv4.tcp_keepalive_probes = 200\n",
                    location: "keepalived-tune.conf:4:", phrase: "must be 1..127"),
    ]

    func prepare(_ input: BrokenInput) throws -> CLIHarness {
        let harness = try CLIHarness()
        for (name, bytes) in input.profiles { try harness.directory.write("profiles/\(name).conf", bytes: bytes) }
        if let config = input.config {
            try harness.config(config)
        } else {
            try harness.config("[daemon]\nprofile = p\n")
        }
        return harness
    }

    @Test(arguments: cases)
    func checkRejects(_ input: BrokenInput) throws {
        let harness = try prepare(input)
        let result = try harness.run("check")
        #expect(result.status == 2, "\(result)")
        let line = result.stderr.split(separator: "\n").first { $0.hasPrefix(harness.directory.url(input.location)) }
        #expect(line?.contains(input.phrase) == true, "\(result.stderr)")
        #expect(result.stderr.contains("error"))
    }

    @Test(arguments: cases)
    func applyAndVerifyRejectWithoutWriting(_ input: BrokenInput) throws {
        let harness = try prepare(input)
        let apply = try harness.run("apply")
        #expect(apply.status == 2, "\(apply)")
        #expect(apply.stderr.contains(harness.directory.url(input.location)), "\(apply.stderr)")
        #expect(apply.stderr.contains("nothing was applied"))
        #expect(try harness.sysctl.compact() == "7200/75/9")
        #expect(try harness.run("verify").status == 2)
    }

    @Test func applyByNameRejectsABrokenProfile() throws {
        let harness = try CLIHarness()
        try harness.profile("p", Self.valid + "[sysctl]\nnet.ipv4.tcp_keepalive_time = -1\n")
        let result = try harness.run("apply", "p")
        #expect(result.status == 2)
        #expect(result.stderr.contains(harness.directory.url("profiles/p.conf:5: error:")))
        #expect(try harness.sysctl.compact() == "7200/75/9")
    }

    @Test func repeatedKeyIsAWarningNotAnError() throws {
        let harness = try CLIHarness()
        try harness.config("[daemon]\nprofile = server\nprofile = web\n")
        let result = try harness.run("check")
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("keepalived-tune.conf:3: warning: profile is set again here; this line (3) wins over line 2"))
        #expect(result.stdout.contains("profile:  web (1800/15/3)"))
    }

    /// Checked as copies with modes 0644 and 0755: a checkout's files may be group-writable
    /// (umask 002), and a root's strict modes refuse them.
    @Test func checkPassesTheShippedConfig() throws {
        let copies = try TemporaryDirectory("kt-shipped")
        let shipped = try copies.copy(FileList.packageRoot + "/etc/keepalived-tune.conf", to: "keepalived-tune.conf")
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "check", "--config", shipped,
                                           "--profile-dir", try copies.copy(FileList.packageRoot + "/profiles", to: "profiles")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("profile:  server (1800/30/3)"))
    }
}

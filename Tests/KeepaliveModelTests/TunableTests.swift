import KeepaliveModel
import Testing

@Suite("The tunables table")
struct TunableTests {
    @Test func namesPathsAndRanges() {
        #expect(Tunable.allCases.map(\.sysctlName) == [
            "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"])
        #expect(Tunable.time.relativePath == "net/ipv4/tcp_keepalive_time")
        #expect(Tunable.time.spec.range == 1...32767)
        #expect(Tunable.intvl.spec.range == 1...32767)
        #expect(Tunable.probes.spec.range == 1...127)
        #expect(KeepaliveValues.kernelDefaults == KeepaliveValues(time: 7200, intvl: 75, probes: 9))
    }

    @Test("keys are normalised at the edge", arguments: [
        ("net.ipv4.tcp_keepalive_time", Tunable?.some(.time)),
        ("net/ipv4/tcp_keepalive_intvl", .intvl),
        ("tcp_keepalive_probes", nil),
        ("net.ipv4.tcp_keepalive_timeout", nil),
        ("net..ipv4.tcp_keepalive_time", nil),
        ("kernel.hostname", nil),
    ])
    func normalisation(key: String, tunable: Tunable?) {
        #expect(Tunable(sysctlKey: key) == tunable)
    }

    @Test func detectionTimeAndDiff() {
        let server = KeepaliveValues(time: 1800, intvl: 30, probes: 3)
        #expect(server.detectionSeconds == 1890)
        #expect(KeepaliveValues.kernelDefaults.detectionSeconds == 7875)
        var kernel = server
        kernel.time = 7200
        #expect(kernel.differences(from: server) == [ValueDifference(key: .time, expected: 1800, actual: 7200)])
        #expect(server.differences(from: server).isEmpty)
    }
}

@Suite("Profile names")
struct ProfileNameTests {
    @Test("valid", arguments: ["server", "a", "0", "my-profile_2.v1", String(repeating: "x", count: 64)])
    func valid(name: String) {
        #expect(ProfileName(name)?.rawValue == name)
    }

    @Test("invalid", arguments: ["", "../x", "a/b", ".hidden", "..", "-x", "_x", "a b", "é", "x\0",
                                 String(repeating: "x", count: 65), String(repeating: "y", count: 300)])
    func invalid(name: String) {
        #expect(ProfileName(name) == nil)
        #expect(ProfileName.problem(with: name) != nil)
    }
}

@Suite("Did you mean")
struct SuggestionTests {
    @Test func suggestsCloseKeys() {
        let keys = Tunable.allCases.map(\.sysctlName)
        #expect(Suggestion.closest(to: "net.ipv4.tcp_keepalive_intervall", among: keys) == "net.ipv4.tcp_keepalive_intvl")
        #expect(Suggestion.closest(to: "net.ipv4.tcp_keepalive_tim", among: keys) == "net.ipv4.tcp_keepalive_time")
        #expect(Suggestion.closest(to: "descripton", among: ["description", "include"]) == "description")
        #expect(Suggestion.closest(to: "kernel.hostname", among: keys) == nil)
    }
}

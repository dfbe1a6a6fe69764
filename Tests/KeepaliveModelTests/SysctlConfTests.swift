import KeepaliveModel
import Testing

@Suite("sysctl.d conflicts (pure)")
struct SysctlConfTests {
    @Test func findsTheKeepaliveAssignmentsInAnyOfTheirSpellings() {
        let file = SourceText(path: "/etc/sysctl.d/10.conf", text: """
            # comment
            ; comment
            net.ipv4.tcp_keepalive_time = 600
            net/ipv4/tcp_keepalive_intvl=10
            -net.ipv4.tcp_keepalive_probes = 4
            net.ipv4.ip_forward = 1
            """)
        let found = SysctlConf.assignments(in: file)
        #expect(found.map(\.key) == [.time, .intvl, .probes])
        #expect(found.map(\.value) == ["600", "10", "4"])
        #expect(found.map(\.location.line) == [3, 4, 5])
    }

    @Test func theLastAssignmentIsTheOneThatCounts() {
        let first = SourceText(path: "a.conf", text: "net.ipv4.tcp_keepalive_time = 600\nnet.ipv4.tcp_keepalive_probes = 5")
        let later = SourceText(path: "b.conf", text: "net.ipv4.tcp_keepalive_time = 1800")
        let conflicts = SysctlConf.conflicts(files: [first, later], expected: KeepaliveValues(time: 1800, intvl: 30, probes: 3))
        #expect(conflicts.map(\.assignment.key) == [.probes])
        #expect(conflicts.first?.diagnostic.description.hasPrefix("a.conf:2: warning: net.ipv4.tcp_keepalive_probes = 5 disagrees with the profile's 3") == true)
    }
}

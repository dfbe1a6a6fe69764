import Foundation
import KeepaliveTestKit
import Testing

/// An exclusion holds whatever the member count (issue 32, finding 5): in a ``CgroupWorld``,
/// one network namespace holds processes of five other units first and the excluded unit's
/// process last, with the highest PID; `exclude = unit:critical.service` still protects it.
@Suite("Exclusions and many members", .serialized,
       .enabled(if: CgroupWorld.unavailableReason == nil, Comment(rawValue: CgroupWorld.unavailableReason ?? "")))
struct ExcludedUnitTests {
    static let scenario = """
        cat > "$O/all.conf" <<'CONF'
        [namespaces]
        manage = all
        exclude = unit:critical.service
        CONF
        cg system.slice/critical.service
        for i in 1 2 3 4 5; do cg system.slice/other-$i.service; done
        member first system.slice/other-1.service new
        for i in 2 3 4 5; do member other$i system.slice/other-$i.service "$first"; done
        member critical system.slice/critical.service "$first"
        member plain system.slice/other-1.service new
        for name in first critical plain; do stat -L -c %i "/proc/$(cat "$O/$name.pid")/ns/net" > "$O/$name.netns"; done
        "$B" namespaces --config "$O/all.conf" --json > "$O/namespaces.json"; echo $? > "$O/namespaces.rc"
        """

    @Test func anExcludedUnitBehindFiveOthersStillProtectsItsNamespace() throws {
        let out = try TemporaryDirectory("kt-exclude")
        let result = try CgroupWorld.run(Self.scenario, in: out)
        try #require(result.status == 0, "\(result)")
        #expect(try out.read("namespaces.rc") == "0\n")
        // Six members: the excluded unit's process is the last, with the highest PID.
        let shared = try out.number("first.netns")
        #expect(try out.number("critical.netns") == shared)
        let others = try ["first", "other2", "other3", "other4", "other5"].map { try out.number("\($0).pid") }
        #expect(try others.allSatisfy { $0 < (try out.number("critical.pid")) }, "\(others)")

        let rows = try out.namespaceRows("namespaces.json")
        let protected = try #require(rows[shared], "\(rows)")
        #expect(protected["managed"] as? Bool == false, "the excluded unit's namespace was adopted: \(protected)")
        #expect(protected["reason"] as? String == "excluded by exclude = unit:critical.service", "\(protected)")
        #expect((protected["units"] as? [String])?.sorted() == ["critical.service"] + (1...5).map { "other-\($0).service" }, "\(protected)")
        let plain = try #require(rows[try out.number("plain.netns")], "\(rows)")
        #expect(plain["managed"] as? Bool == true, "a namespace of other units only is managed under all: \(plain)")
    }
}

import KeepaliveModel
import KeepaliveTestKit
import Testing

/// An in-memory search path: layer 0 is searched first; each layer maps names to text.
struct MemoryProfiles {
    let layers: [[String: String]]

    func lookup(_ name: ProfileName, after: Int?) -> ProfileLookupResult {
        for layer in (after.map { $0 + 1 } ?? 0)..<layers.count {
            if let text = layers[layer][name.rawValue] {
                return .found(ProfileFile(layer: layer, source: SourceText(path: "/l\(layer)/\(name).conf", text: text)))
            }
        }
        return .notFound
    }

    func resolve(_ name: String) -> (ResolvedProfile?, [Diagnostic]) {
        ProfileResolver.resolve(ProfileName(name)!, lookup: lookup)
    }
}

func profileText(include: String? = nil, time: Int? = nil, intvl: Int? = nil, probes: Int? = nil) -> String {
    var lines = ["[profile]", "description = d"]
    if let include { lines.append("include = \(include)") }
    lines.append("[sysctl]")
    if let time { lines.append("net.ipv4.tcp_keepalive_time = \(time)") }
    if let intvl { lines.append("net.ipv4.tcp_keepalive_intvl = \(intvl)") }
    if let probes { lines.append("net.ipv4.tcp_keepalive_probes = \(probes)") }
    return lines.joined(separator: "\n")
}

@Suite("Include chains and merging")
struct ProfileResolverTests {
    @Test func laterFilesWinAndProvenanceIsKept() throws {
        let profiles = MemoryProfiles(layers: [[
            "base": profileText(time: 100, intvl: 10, probes: 1),
            "mid": profileText(include: "base", intvl: 20),
            "top": profileText(include: "mid", probes: 5),
        ]])
        let (resolved, diagnostics) = profiles.resolve("top")
        let profile = try #require(resolved, "\(diagnostics)")
        #expect(profile.values == KeepaliveValues(time: 100, intvl: 20, probes: 5))
        #expect(profile.provenance[.time] == SourceLocation(file: "/l0/base.conf", line: 4))
        #expect(profile.provenance[.intvl] == SourceLocation(file: "/l0/mid.conf", line: 5))
        #expect(profile.provenance[.probes] == SourceLocation(file: "/l0/top.conf", line: 5))
        #expect(profile.chain == ["/l0/top.conf", "/l0/mid.conf", "/l0/base.conf"])
    }

    @Test("include cycles of length 1, 2 and 3", arguments: [
        (["a": profileText(include: "a")], "a", 3),
        (["a": profileText(include: "b"), "b": profileText(include: "a")], "a", 3),
        (["a": profileText(include: "b"), "b": profileText(include: "c"), "c": profileText(include: "a")], "a", 3),
    ])
    func cycles(files: [String: String], start: String, line: Int) {
        let (profile, diagnostics) = MemoryProfiles(layers: [files]).resolve(start)
        #expect(profile == nil)
        #expect(diagnostics.map(\.code) == [.includeCycle])
        #expect(diagnostics.first?.location.line == line)
    }

    @Test func cycleMessageShowsThePath() {
        let files = ["a": profileText(include: "b"), "b": profileText(include: "a")]
        let diagnostic = MemoryProfiles(layers: [files]).resolve("a").1.first
        #expect(diagnostic?.description == "/l0/b.conf:3: error: include cycle: a -> b -> a [include-cycle]")
    }

    @Test func deepChainsAreCapped() {
        var files: [String: String] = ["p0": profileText(time: 1, intvl: 1, probes: 1)]
        for depth in 1...20 { files["p\(depth)"] = profileText(include: "p\(depth - 1)") }
        let (profile, diagnostics) = MemoryProfiles(layers: [files]).resolve("p20")
        #expect(profile == nil)
        #expect(diagnostics.map(\.code) == [.includeTooDeep])
        // A chain of exactly the maximum depth still resolves.
        #expect(MemoryProfiles(layers: [files]).resolve("p15").0 != nil)
    }

    @Test func missingIncludeNamesTheIncludeLine() {
        let (profile, diagnostics) = MemoryProfiles(layers: [["a": profileText(include: "nope")]]).resolve("a")
        #expect(profile == nil)
        #expect(diagnostics.map(\.code) == [.missingInclude])
        #expect(diagnostics.first?.location == SourceLocation(file: "/l0/a.conf", line: 3))
    }

    @Test func incompleteProfileIsAnError() {
        let (profile, diagnostics) = MemoryProfiles(layers: [["a": profileText(time: 60)]]).resolve("a")
        #expect(profile == nil)
        #expect(diagnostics.map(\.code) == [.incompleteProfile])
        #expect(diagnostics.first?.message.contains("does not set net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes") == true)
    }

    @Test func errorsInAnIncludedFileAreReportedAgainstThatFile() {
        let files = ["a": profileText(include: "b"), "b": "[sysctl]\nnet.ipv4.tcp_keepalive_time = 0"]
        let diagnostics = MemoryProfiles(layers: [files]).resolve("a").1
        #expect(diagnostics.map(\.location) == [SourceLocation(file: "/l0/b.conf", line: 2)])
    }

    @Test func anEarlierLayerWinsAndCanExtendTheProfileItShadows() throws {
        let profiles = MemoryProfiles(layers: [
            ["server": profileText(include: "server", probes: 7)],           // like /etc
            ["server": profileText(time: 1800, intvl: 30, probes: 3)],      // like the built-ins
        ])
        let profile = try #require(profiles.resolve("server").0)
        #expect(profile.values == KeepaliveValues(time: 1800, intvl: 30, probes: 7))
        #expect(profile.source == "/l0/server.conf")
        #expect(profile.provenance[.probes]?.file == "/l0/server.conf")
        #expect(profile.provenance[.time]?.file == "/l1/server.conf")
    }
}

@Suite("The shipped profiles")
struct BuiltinProfileTests {
    func resolveBuiltin(_ name: String) -> ResolvedProfile? {
        ProfileResolver.resolve(ProfileName(name)!) { name, after in
            guard (after ?? -1) < 0, let source = BuiltinProfiles.all[name] else { return .notFound }
            return .found(ProfileFile(layer: 0, source: source))
        }.0
    }

    @Test("resolved values", arguments: [
        ("default", KeepaliveValues(time: 7200, intvl: 75, probes: 9)),
        ("server", KeepaliveValues(time: 1800, intvl: 30, probes: 3)),
        ("web", KeepaliveValues(time: 1800, intvl: 15, probes: 3)),
        ("nat", KeepaliveValues(time: 1800, intvl: 75, probes: 9)),
    ])
    func values(name: String, values: KeepaliveValues) {
        #expect(resolveBuiltin(name)?.values == values)
    }

    @Test func webAndNatOverrideOnlyOneValue() throws {
        let web = try #require(resolveBuiltin("web"))
        #expect(web.provenance[.intvl]?.file == "<built-in>/web.conf")
        #expect(web.provenance[.time]?.file == "<built-in>/server.conf")
        let nat = try #require(resolveBuiltin("nat"))
        #expect(nat.provenance[.time]?.file == "<built-in>/nat.conf")
        #expect(nat.provenance[.intvl]?.file == "<built-in>/default.conf")
    }

    @Test func everyShippedFileIsCompiledIn() throws {
        let shipped = try FileList.confFiles(in: FileList.packageRoot + "/profiles")
        #expect(Set(shipped) == Set(BuiltinProfiles.all.keys.map(\.fileName)))
        #expect(BuiltinProfiles.all.values.allSatisfy { !ProfileDocument.parse($0, name: ProfileName("x")!).1.hasErrors })
    }
}
